"""The xlsx writer: read written workbooks back with openpyxl and python-calamine."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from sheetsync.errors import RenderError
from sheetsync.model import (
    ACCOUNTING,
    Chart,
    Column,
    ConditionalRule,
    Format,
    Link,
    Style,
    Tab,
    Total,
    Validation,
    Workbook,
)
from sheetsync.sinks import xlsx_write
from sheetsync.sinks.xlsx import write_workbook

HOSTILE = ["=1+1", "+x", "-5", "@SUM(A1)", "0042", '=HYPERLINK("http://evil")']


def sample_tab(rows: list[list] | None = None, **kw) -> Tab:
    columns = [
        Column("Name"),
        Column("Qty", Format.INTEGER, total=Total.SUM),
        Column("Price", Format.CURRENCY, total=Total.SUM),
        Column("Rate", Format.PERCENT, total=Total.AVERAGE),
        Column("Invoice date", Format.DATE),
        Column("Updated", Format.DATETIME),
        Column("PDF", width=12),
        Column("Lines", Format.INTEGER, total=Total.COUNT),
    ]
    if rows is None:
        rows = [
            [
                "=1+1",
                3,
                Decimal("1.005"),
                Decimal("0.25"),
                date(2024, 1, 2),
                datetime(2024, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-5))),
                Link("https://x.test/1", "INV-1"),
                1,
            ],
            [
                "+x",
                12,
                Decimal("2.5"),
                Decimal("0.5"),
                date(2024, 2, 3),
                datetime(2024, 2, 3, 4, 5),
                Link("https://x.test/2", "INV-2"),
                2,
            ],
            ["-5", None, 7, None, None, None, "@SUM(A1)", 3],
            ["0042", 1, Decimal("-3.333"), Decimal("0.1"), date(2024, 3, 1), datetime(2024, 3, 1), "plain", None],
        ]
    defaults = dict(
        name="Price list",
        key="prices",
        title="Price list for Kettles",
        columns=columns,
        rows=rows,
        info=[("Customer", "=Kettles"), ("As of", "2024-03-01")],
        rules=[
            ConditionalRule("Qty", "<", 10, ("Qty", "Price"), Style(fill="#FFC7CE", bold=True)),
            ConditionalRule("Name", "==", "+x"),
        ],
        validations=[Validation("Price", "positive_decimal", message="Amount > 0")],
        chart=Chart("Totals", ("Qty", "Price")),
        note="Refreshed 2024-03-01 10:00",
    )
    defaults.update(kw)
    return Tab(**defaults)


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "out.xlsx"
    write_workbook(Workbook("out", [sample_tab()]), path)
    return path


def test_layout_values_types_and_formats(written: Path) -> None:
    ws = openpyxl.load_workbook(written).active
    assert ws["A1"].value == "Price list for Kettles" and ws["A1"].font.b
    assert (ws["A2"].value, ws["B2"].value, ws["B2"].data_type) == ("Customer", "=Kettles", "s")
    assert ws["A4"].value is None
    assert [c.value for c in ws[5]] == ["Name", "Qty", "Price", "Rate", "Invoice date", "Updated", "PDF", "Lines"]
    assert all(c.font.b for c in ws[5])
    row = ws[6]
    assert row[1].value == 3 and row[1].number_format == "#,##0"
    assert row[2].value == pytest.approx(1.01) and row[2].number_format == ACCOUNTING
    assert row[3].value == pytest.approx(0.25) and row[3].number_format == "0.0%"
    assert row[4].value == datetime(2024, 1, 2) and row[4].number_format == "yyyy-mm-dd"
    assert row[5].value == datetime(2024, 1, 2, 3, 4) and row[5].number_format == "yyyy-mm-dd hh:mm"
    assert ws["C9"].value == pytest.approx(-3.33)
    assert ws["B8"].value is None


def test_hostile_strings_stay_text(tmp_path: Path) -> None:
    rows = [[text, 1, 1, 0, None, None, text, 1] for text in HOSTILE]
    path = tmp_path / "hostile.xlsx"
    write_workbook(Workbook("h", [sample_tab(rows)]), path)
    ws = openpyxl.load_workbook(path).active
    for offset, text in enumerate(HOSTILE):
        for column in ("A", "G"):
            cell = ws[f"{column}{6 + offset}"]
            assert (cell.value, cell.data_type) == (text, "s")
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert [r[0] for r in sheet[5 : 5 + len(HOSTILE)]] == HOSTILE


def test_totals_are_subtotal_formulas_over_exact_ranges(written: Path) -> None:
    ws = openpyxl.load_workbook(written).active
    assert [c.value for c in ws[10]] == [
        "Total",
        "=SUBTOTAL(109,B6:B9)",
        "=SUBTOTAL(109,C6:C9)",
        "=SUBTOTAL(101,D6:D9)",
        None,
        None,
        None,
        "=SUBTOTAL(103,H6:H9)",
    ]
    assert ws["C10"].number_format == ACCOUNTING and ws["H10"].number_format == "#,##0"
    assert ws["B10"].font.b


def test_sheet_features(written: Path) -> None:
    book = openpyxl.load_workbook(written)
    ws = book.active
    assert ws.freeze_panes == "A6"
    table = ws.tables["out_t"] if "out_t" in ws.tables else next(iter(ws.tables.values()))
    assert table.ref == "A5:H9" and table.autoFilter.ref == "A5:H9"  # the data block is an Excel table
    assert ws.auto_filter.ref is None  # its filter is the table's
    assert ws.print_title_rows == "$5:$5"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["G"].width == 12
    assert 8 <= ws.column_dimensions["A"].width <= 60
    assert ws["G6"].hyperlink.target == "https://x.test/1" and ws["G6"].value == "INV-1"
    assert ws["G7"].hyperlink.target == "https://x.test/2"
    assert ws["G8"].hyperlink is None
    assert ws["A1"].comment.text == "Refreshed 2024-03-01 10:00"
    assert len(ws._charts) == 1
    assert book.calculation.fullCalcOnLoad


def test_conditional_formatting_and_validation(written: Path) -> None:
    ws = openpyxl.load_workbook(written).active
    rules = {str(cf.sqref): [(r.type, r.formula) for r in cf.rules] for cf in ws.conditional_formatting}
    assert rules == {"B6:B9 C6:C9": [("expression", ["$B6<10"])], "A6:H9": [("expression", ['$A6="+x"'])]}
    [dv] = ws.data_validations.dataValidation
    assert (dv.type, dv.operator, dv.formula1, str(dv.sqref)) == ("decimal", "greaterThan", "0", "C6:C9")


def test_list_validation_points_at_other_tab(tmp_path: Path) -> None:
    payments = Tab("Payments: open", "payments", "Payments", [Column("Invoice")], [["P-1"], ["P-2"], ["P-3"]])
    alloc = Tab(
        "Allocations",
        "alloc",
        "Allocations",
        [Column("Payment"), Column("Amount", Format.CURRENCY)],
        [[None, None]] * 2,
        validations=[Validation("Payment", "list", ("Payments: open", "Invoice"))],
    )
    path = tmp_path / "v.xlsx"
    write_workbook(Workbook("v", [payments, alloc]), path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Payments_ open", "Allocations"]
    [dv] = book["Allocations"].data_validations.dataValidation
    assert (dv.type, dv.formula1, str(dv.sqref)) == ("list", "'Payments_ open'!$A$4:$A$6", "A4:A5")


def test_calamine_reads_typed_values(written: Path) -> None:
    sheet = CalamineWorkbook.from_path(str(written)).get_sheet_by_index(0).to_python()
    assert sheet[5][:6] == [
        "=1+1",
        3,
        pytest.approx(1.01),
        pytest.approx(0.25),
        date(2024, 1, 2),
        datetime(2024, 1, 2, 3, 4),
    ]
    assert sheet[6][6] == "INV-2"


def test_sheet_names_sanitized_and_unique(tmp_path: Path) -> None:
    names = ["a/b", "A_B", "x" * 40, "'quoted'", "[]"]
    tabs = [Tab(n, str(i), "t", [Column("c")], [["v"]]) for i, n in enumerate(names)]
    path = tmp_path / "n.xlsx"
    write_workbook(Workbook("n", tabs), path)
    titles = openpyxl.load_workbook(path).sheetnames
    assert titles[0] == "a_b" and titles[1] == "A_B (2)" and titles[2] == "x" * 31 and titles[3] == "quoted"
    assert len(set(t.casefold() for t in titles)) == 5 and all(len(t) <= 31 for t in titles)


def test_empty_tab_and_no_totals(tmp_path: Path) -> None:
    tab = Tab("Empty", "e", "Nothing", [Column("A", Format.CURRENCY, total=Total.SUM)], [])
    path = tmp_path / "e.xlsx"
    write_workbook(Workbook("e", [tab]), path)
    ws = openpyxl.load_workbook(path).active
    assert ws["A3"].value == "A" and ws["A4"].value == 0 and ws.auto_filter.ref == "A3:A3"


def test_control_characters_replaced(tmp_path: Path) -> None:
    tab = Tab("T", "t", "t", [Column("c")], [["a\x00b\x1fc\ufffe\ud800"]])
    path = tmp_path / "c.xlsx"
    write_workbook(Workbook("c", [tab]), path)
    assert openpyxl.load_workbook(path).active["A4"].value == "a\ufffdb\ufffdc\ufffd\ufffd"


def test_atomic_write_keeps_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.xlsx"
    path.write_bytes(b"previous contents")
    calls = {"n": 0}
    original = xlsx_write.TabRenderer.emit

    def failing_emit(self, row_idx, row_cells):
        calls["n"] += 1
        if calls["n"] > 3:
            raise RuntimeError("boom midway")
        return original(self, row_idx, row_cells)

    monkeypatch.setattr(xlsx_write.TabRenderer, "emit", failing_emit)
    with pytest.raises(RuntimeError, match="boom"):
        write_workbook(Workbook("k", [sample_tab()]), path)
    assert path.read_bytes() == b"previous contents"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.xlsx"]


def test_atomic_write_when_save_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.xlsx"
    path.write_bytes(b"old")

    def broken_save(self, filename):
        Path(filename).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(RenderError, match="No space left"):
        write_workbook(Workbook("k", [sample_tab()]), path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.xlsx"]


def test_unknown_rule_column_is_a_render_error(tmp_path: Path) -> None:
    tab = sample_tab(rules=[ConditionalRule("Nope", "<", 1)])
    with pytest.raises(RenderError, match="Nope"):
        write_workbook(Workbook("x", [tab]), tmp_path / "x.xlsx")
    assert not list(tmp_path.iterdir())


def test_auto_widths_follow_content_and_are_capped(tmp_path: Path) -> None:
    tab = Tab("W", "w", "t", [Column("Short"), Column("Long")], [["ab", "x" * 500]] * 3000)
    path = tmp_path / "w.xlsx"
    write_workbook(Workbook("w", [tab]), path)
    ws = openpyxl.load_workbook(path, read_only=False).active
    assert ws.column_dimensions["A"].width < 15
    assert ws.column_dimensions["B"].width == 60


def test_written_file_is_readable_by_others_like_any_new_file(tmp_path: Path) -> None:
    """mkstemp creates 0600 files; a workbook handed to finance must get the usual permissions."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "perm.xlsx"
        write_workbook(Workbook("perm", [Tab("T", "t", "T", [Column("A")], [["x"]])]), path)
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o640)
        write_workbook(Workbook("perm", [Tab("T", "t", "T", [Column("A")], [["y"]])]), path)
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
