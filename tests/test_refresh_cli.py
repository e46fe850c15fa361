"""The issue's reproductions through the command line: a refresh keeps the user's sheet and notes, and an
unchanged refresh writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(soffice() is None and not os.environ.get("CI"), reason="LibreOffice is not installed"),
]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def invoke(*args: str) -> tuple[int, str]:
        code = run_safely(cli, ["run", "price-list", "--sandbox", *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return invoke


def notes_by_product(path: Path, tab: str) -> dict[int, str]:
    ws = openpyxl.load_workbook(path)[tab]
    header = next(r for r in ws.iter_rows(max_row=20) if r[0].value == "Category")[0].row
    product_column = next(c.column for c in ws[header] if c.value == "Product ID")
    notes_column = next(c.column for c in ws[header] if c.value == "Buyer notes")
    return {
        ws.cell(r, product_column).value: ws.cell(r, notes_column).value
        for r in range(header + 1, ws.max_row + 1)
        if ws.cell(r, notes_column).value
    }


def test_a_refresh_keeps_the_users_sheet_and_notes(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "prices.xlsx"
    code, output = run("-p", "customer_ids=1,2", "-o", str(book))
    assert code == 0, output
    user = openpyxl.load_workbook(book)
    tab = user.sheetnames[0]
    ws = user[tab]
    header = next(r for r in ws.iter_rows(max_row=20) if r[0].value == "Category")[0].row
    ws.cell(header, 13, "Buyer notes")
    ws.cell(header + 2, 13, "ask for samples")
    product = ws.cell(header + 2, 4).value
    mine = user.create_sheet("MyAnalysis")
    mine["A1"] = f"=COUNTA('{tab}'!A:A)"
    user.save(book)
    saved = recalculate_with_libreoffice(book, tmp_path / "lo")
    counted = openpyxl.load_workbook(saved, data_only=True)["MyAnalysis"]["A1"].value
    assert counted > 10

    before = (saved.stat().st_mtime_ns, saved.read_bytes())
    code, output = run("-p", "customer_ids=1,2", "-o", str(saved))
    assert code == 0 and "unchanged" in output, output
    assert (saved.stat().st_mtime_ns, saved.read_bytes()) == before

    code, output = run("-p", "customer_ids=1,2", "-o", str(saved), "--force")
    assert code == 0 and "wrote" in output and "kept 2 cell(s)" in output, output
    book_after = openpyxl.load_workbook(saved)
    assert book_after.sheetnames == [tab, *book_after.sheetnames[1:2], "MyAnalysis"]
    assert book_after["MyAnalysis"]["A1"].value == f"=COUNTA('{tab}'!A:A)"
    assert openpyxl.load_workbook(saved, data_only=True)["MyAnalysis"]["A1"].value == counted  # cached value kept
    assert notes_by_product(saved, tab) == {product: "ask for samples"}

    code, output = run("-p", "customer_ids=2,1", "-o", str(saved))  # same tabs, in another run
    assert code == 0, output
    assert notes_by_product(saved, tab) == {product: "ask for samples"}


def test_a_user_sheet_named_like_a_report_tab_is_refused_untouched(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "prices.xlsx"
    code, _ = run("-p", "customer_ids=1", "-o", str(tmp_path / "probe.xlsx"))
    tab = openpyxl.load_workbook(tmp_path / "probe.xlsx").sheetnames[0]
    user = openpyxl.Workbook()
    user.active.title = tab
    user.active["A1"] = "mine"
    user.save(book)
    data = book.read_bytes()
    code, output = run("-p", "customer_ids=1", "-o", str(book))
    assert code != 0 and f"tab '{tab}' belongs to you" in output and "nothing written" in output
    assert book.read_bytes() == data


def test_a_templated_report_refreshes_its_own_logo_but_not_a_users_picture(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import io

    from helpers_refresh import png
    from openpyxl.drawing.image import Image

    from sheetsync.sinks.xlsx_package import XlsxPackage

    book = tmp_path / "aging.xlsx"
    args = ["run", "ar-aging", "--sandbox", "-p", "states=CA", "-o", str(book)]
    assert run_safely(cli, args) == 0
    assert run_safely(cli, [*args, "--force"]) == 0, capsys.readouterr().err  # the template's logo is ours
    capsys.readouterr()
    statement = next(e.name for e in XlsxPackage.open(book).sheets() if e.name not in ("Summary", "About"))
    loaded = openpyxl.load_workbook(book)
    loaded[statement].add_image(Image(io.BytesIO(png())), "J30")  # a picture the user adds beside ours
    loaded.save(book)
    before = book.read_bytes()
    assert run_safely(cli, [*args, "--force"]) == 2
    assert f"picture(s) on tab {statement!r}" in capsys.readouterr().err
    assert book.read_bytes() == before


def test_another_seed_renames_customers_and_reorders_rows_and_nothing_is_lost(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "prices.xlsx"
    assert run("-p", "customer_ids=1", "-o", str(book))[0] == 0
    user = openpyxl.load_workbook(book)
    tab = user.sheetnames[0]
    ws = user[tab]
    header = next(r for r in ws.iter_rows(max_row=20) if r[0].value == "Category")[0].row
    ws.cell(header, 13, "Buyer notes")
    products = [ws.cell(r, 4).value for r in range(header + 1, ws.max_row + 1)]
    for offset, product in enumerate(products, start=1):
        ws.cell(header + offset, 13, f"note {product}")
    user.create_sheet("MyAnalysis")["A1"] = f"=COUNTA('{tab}'!D:D)"
    user.save(book)
    saved = recalculate_with_libreoffice(book, tmp_path / "lo")

    code, output = run("--seed", "1", "-p", "customer_ids=1", "-o", str(saved))  # customer 1 has another name

    assert code == 0 and f"tab {tab!r} keeps its name" in output, output
    after = openpyxl.load_workbook(saved)
    kept = notes_by_product(saved, tab)
    assert all(note == f"note {product}" for product, note in kept.items())  # each note beside its product
    listed = [r for r in after["Notes without a row"].iter_rows(min_row=2, values_only=True)]
    assert len(kept) + len(listed) == len(products) and listed  # every note is somewhere, some rows are gone
    assert {int(r[1]) for r in listed}.isdisjoint(kept) and {r[3] for r in listed} <= {f"note {p}" for p in products}
    reopened = recalculate_with_libreoffice(saved, tmp_path / "lo2", recalculate_on_load=True)
    rows = len([c for c in openpyxl.load_workbook(reopened)[tab]["D"] if c.value is not None])
    assert openpyxl.load_workbook(reopened, data_only=True)["MyAnalysis"]["A1"].value == rows
