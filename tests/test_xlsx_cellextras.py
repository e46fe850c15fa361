"""A refresh moves the user's cells to their rows' new places: their notes (comments), hyperlinks and
merged ranges go with them, and those of cells whose row vanished are listed in the notes tab."""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice
from openpyxl.comments import Comment
from test_xlsx_refresh import prices

from sheetsync.sinks.xlsx_refresh import NOTES_TITLE, write_report_xlsx

pytestmark = pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed")


def user_cells_with_extras(tmp_path: Path) -> Path:
    """Rows 6..10 hold codes 0001..0005; the user's column J has a note on 0001's cell, a link on 0002's,
    a merge over J:K on 0003's row, a note on 0004's and a link on 0005's; saved by LibreOffice."""
    first = tmp_path / "first" / "book.xlsx"
    first.parent.mkdir()
    write_report_xlsx(prices([1, 2, 3, 4, 5]), first)
    user = openpyxl.load_workbook(first)
    ws = user["Prices"]
    ws["J5"] = "Buyer notes"
    for row in range(6, 11):
        ws[f"J{row}"] = f"note {row}"
    ws["J6"].comment = Comment("ask Dana first", "Dana")
    ws["J7"].hyperlink = "https://tickets.example.com/T-7"
    ws.merge_cells("J8:K8")
    ws["J9"].comment = Comment("discontinued?", "Lee")
    ws["J10"].hyperlink = "https://tickets.example.com/T-10"
    user.save(first)
    return recalculate_with_libreoffice(first, tmp_path / "lo")


def test_notes_links_and_merges_follow_their_rows(tmp_path: Path) -> None:
    book = user_cells_with_extras(tmp_path)

    outcome = write_report_xlsx(prices([3, 1, 6, 2]), book)  # 0004 and 0005 gone

    assert outcome.status == "refreshed" and outcome.orphans == 2, outcome.warnings
    for path in (book, recalculate_with_libreoffice(book, tmp_path / "lo2")):  # as LibreOffice reads it back
        ws = openpyxl.load_workbook(path)["Prices"]
        assert [ws[f"A{row}"].value for row in range(6, 10)] == ["0003", "0001", "0006", "0002"]
        assert ws["J7"].value == "note 6" and ws["J7"].comment.text.strip().endswith("ask Dana first")
        assert ws["J9"].value == "note 7" and ws["J9"].hyperlink.target == "https://tickets.example.com/T-7"
        assert [str(r) for r in ws.merged_cells.ranges if r.min_col >= 10] == ["J6:K6"]
        assert ws["A1"].comment is not None  # sheetsync's own note on the title is still there
        assert ws["J6"].comment is None and ws["J8"].hyperlink is None

    notes = list(openpyxl.load_workbook(book)[NOTES_TITLE].iter_rows(values_only=True))
    assert notes[0] == ("Tab", "Key", "Column", "Value", "Formula", "Moved here on", "Note", "Link")
    listed = {(n[1], n[3]): (n[6], n[7]) for n in notes[1:]}
    assert listed[("0004", "note 9")][0].endswith("discontinued?")
    assert listed[("0005", "note 10")] == (None, "https://tickets.example.com/T-10")
