"""The reverse path's write-back changes only the outcome cells: every other part of a workbook last saved
by a spreadsheet application stays byte-identical (formulas and cached values, charts, images, pivot
tables, comments, defined names), and a formula amount is read again from its cached value."""

from __future__ import annotations

import io
import os
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice
from helpers_push import HEADERS, accounts, client_for, posts, push
from helpers_refresh import add_pivot_table, parts, png
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.workbook.defined_name import DefinedName

from sheetsync.errors import ExitCode
from sheetsync.push.plan import REQUESTED
from sheetsync.sinks.xlsx_package import XlsxPackage

needs_lo = pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed")
pytestmark = [pytest.mark.libreoffice, needs_lo]


@pytest.fixture
def env(fresh_sandbox, tmp_path, store_location):
    client = client_for(fresh_sandbox)
    a = accounts(client, invoices=2, minimum=Decimal("20"))[0]
    return fresh_sandbox, client, a, tmp_path, store_location


def _users_workbook(path: Path, a) -> None:
    """An allocation sheet as finance keeps it: a formula amount, a sheet of their own with a chart,
    an image, a comment and formulas, and a workbook name."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Allocations"
    ws.append([*HEADERS, "Collector notes"])
    pay = a.payments[0]["PaymentInvoiceNum"]
    ws.append(["W-1", a.ar, pay, a.invoices[0]["InvoiceNum"], "=0.75*2", None, None, None, None, "call Tuesday"])
    ws.append(["W-2", a.ar, pay, a.invoices[1]["InvoiceNum"], 2.25, None, None, None, None, "=E3*2"])
    mine = book.create_sheet("Mine")
    mine["A1"] = "=SUM(Allocations!E2:E3)"
    mine["A1"].comment = Comment("what we allocate", "collector")
    mine["A2"] = "=A1*2"
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=3), titles_from_data=True)
    mine.add_chart(chart, "C2")
    mine.add_image(Image(io.BytesIO(png())), "C20")
    book.defined_names["Allocated"] = DefinedName("Allocated", attr_text="Allocations!$E$2:$E$3")
    book.save(path)


def _sheet_part(path: Path, tab: str) -> str:
    return XlsxPackage.open(path).sheet(tab).part


def test_write_back_keeps_every_other_part_byte_identical_and_formula_values(env) -> None:
    sandbox, client, a, tmp, db = env
    draft = tmp / "draft" / "alloc.xlsx"
    draft.parent.mkdir()
    _users_workbook(draft, a)
    path = recalculate_with_libreoffice(draft, tmp / "saved")  # cached values, as a spreadsheet app saves
    pivot_parts = add_pivot_table(path, "Allocations", "A1:E3", "Mine")
    before = parts(path)
    allocations = _sheet_part(path, "Allocations")
    assert re.search(rb"<f[^>]*>0\.75\*2</f><v>1\.5</v>", before[allocations])

    result = push(client, path, db)
    assert result.exit_code == ExitCode.OK, result.lines
    assert sorted(e["query"]["Amount"] for e in posts(sandbox)) == ["1.50", "2.25"]

    after = parts(path)
    assert set(after) == set(before)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {allocations, "xl/styles.xml"}, changed
    assert set(pivot_parts) <= set(after)
    assert re.search(rb"<f[^>]*>0\.75\*2</f><v>1\.5</v>", after[allocations])  # the formula and its value

    values = openpyxl.load_workbook(path, data_only=True)["Allocations"]
    assert values["F2"].value == "Pending" and isinstance(values["G2"].value, int)
    assert values["J2"].value == "call Tuesday" and values["J3"].value == 4.5  # notes and their values kept

    again = push(client, path, db, apply=False)  # the formula row is read again, not "incomplete"
    assert [d.action for d in again.plan.decisions] == [REQUESTED, REQUESTED]
    assert again.exit_code == ExitCode.OK


def test_an_unreadable_workbook_is_one_error_before_anything_is_sent(env) -> None:
    from sheetsync.errors import SinkError

    sandbox, client, _, tmp, db = env
    path = tmp / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SinkError, match="not a readable xlsx"):
        push(client, path, db)
    assert posts(sandbox) == []
