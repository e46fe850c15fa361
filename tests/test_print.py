"""Printed output, as a controller sees it: demo workbooks through LibreOffice to PDF, then page images and text.

Each test reads the printed pages back (pdfinfo, pdftoppm, pdftotext); the page images are what a person
signs off. Word heights come from pdftotext's word boxes: at 100 % a body line of 11 pt measures ~9.5 pt.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy
import openpyxl
import pytest
from helpers_lo import soffice
from helpers_pdf import page_count, page_png, page_size, page_text, page_words, poppler, to_pdf
from helpers_reports import run_cli
from PIL import Image

from sheetsync.config import PLACEHOLDER_COMPANY
from sheetsync.model import Column, Format, Link, Statement, Tab, Total, Workbook
from sheetsync.sinks.xlsx import write_workbook

pytestmark = [
    pytest.mark.libreoffice,
    # CI installs LibreOffice and poppler-utils, so there a missing tool fails instead of skipping
    pytest.mark.skipif(
        (soffice() is None or not poppler()) and not os.environ.get("CI"),
        reason="LibreOffice (soffice) or poppler-utils is not installed; CI installs them",
    ),
]

LETTER_LANDSCAPE, LETTER_PORTRAIT = (792.0, 612.0), (612.0, 792.0)
DPI = 100
READABLE_PX = 11.0  # a table word at least this tall at 100 dpi (~8 pt: printed at 85 % or more)
FORBIDDEN = ("Parameters", "Environment", "APIKeyID", "Generated", "sandbox")


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHEETSYNC_CACHE_DIR", str(out / "cache"))
        run_cli("demo", "--out", str(out / "books"))
    books = {name: out / "books" / f"{name}.xlsx" for name in ("ar-aging", "price-list", "reorder")}
    pdfs = dict(zip(books, to_pdf(list(books.values()), out / "pdf"), strict=True))
    return {"books": books, "pdfs": pdfs, "dir": out}


def table_word_px(pdf: Path, page: int) -> float:
    """The median height, in pixels at DPI, of the words on a page (mostly table cells)."""
    return statistics.median(w.height for w in page_words(pdf, page)) * DPI / 72


def test_ar_summary_prints_landscape_readable_with_the_chart_below(printed: dict[str, Any]) -> None:
    pdf = printed["pdfs"]["ar-aging"]
    assert page_size(pdf, 1) == LETTER_LANDSCAPE
    with Image.open(page_png(pdf, 1, printed["dir"] / "summary.png", DPI)) as image:
        assert image.size == (1100, 850)
        rgb = numpy.asarray(image.convert("RGB")).astype(int)
    red = int(((rgb[..., 0] > 200) & (rgb[..., 1] < 40) & (rgb[..., 2] < 40)).sum())
    assert red > 100  # ar-aging's `negatives: red`: the open credits print in red (pure red: no chart colour)
    assert table_word_px(pdf, 1) >= READABLE_PX
    words = page_words(pdf, 1)
    total = next(w for w in words if w.text == "Total")
    chart_title = next(w for w in words if w.text == "Outstanding")
    assert chart_title.y > total.y  # the chart sits below the table, not beside it
    axis = [w.text for w in words if re.fullmatch(r"\$\d{1,3}(,\d{3})*", w.text)]
    assert len(axis) >= 3 and "$0" in axis  # whole currency units on the chart's axis
    text = page_text(pdf, 1)
    summary = openpyxl.load_workbook(printed["books"]["ar-aging"])["Summary"]
    negatives = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, float) and c.value < 0]
    assert negatives and "-$" not in text  # accounting: negatives in parentheses
    assert all(f"({abs(v):,.2f})" in text for v in negatives[:20])


@pytest.mark.parametrize("report", ["price-list", "reorder"])
def test_every_report_prints_landscape_with_headers_whole(printed: dict[str, Any], report: str) -> None:
    pdf, book = printed["pdfs"][report], openpyxl.load_workbook(printed["books"][report])
    assert page_size(pdf, 1) == LETTER_LANDSCAPE
    assert table_word_px(pdf, 1) >= 9.5  # the widest reports still print at ~75 % or more
    words = " ".join(page_text(pdf, 1).split())
    ws = book.worksheets[0]
    header_row = next(r for r in ws.iter_rows(max_row=20) if r[0].value and r[1].value and r[0].row > 3)
    for cell in header_row:
        for word in str(cell.value or "").split():
            assert word in words, (report, cell.value)  # every header word printed whole, none cut


def statements_printed(pdf: Path) -> list[list[str]]:
    """The page texts of each statement, told apart by their own "Page X of Y" footers."""
    out: list[list[str]] = []
    for page in range(1, page_count(pdf) + 1):
        text = page_text(pdf, page)
        found = re.search(r"Page (\d+) of (\d+)", text)
        if found is None:
            continue  # the summary has no page footer
        number, of = int(found.group(1)), int(found.group(2))
        if number == 1:
            out.append([])
        out[-1].append(text)
        assert len(out[-1]) == number <= of
    return out


def test_statements_print_as_customer_documents(printed: dict[str, Any]) -> None:
    pdf, book = printed["pdfs"]["ar-aging"], openpyxl.load_workbook(printed["books"]["ar-aging"])
    about = [row for row in book["About"].iter_rows(values_only=True) if row and row[0]]
    listed = about[[row[0] for row in about].index("Statement sheet") + 1 :]
    printed_statements = statements_printed(pdf)
    assert len(printed_statements) == len(listed) >= 10
    assert page_size(pdf, page_count(pdf)) == LETTER_PORTRAIT
    for pages, (_sheet, customer, amount_due) in zip(printed_statements, listed, strict=True):
        first, flat = " ".join(pages[0].split()), " ".join(" ".join(pages).split())
        assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
        assert "STATEMENT" in first and customer in first
        assert "Remit to" in first and all(line in first for line in PLACEHOLDER_COMPANY.remit_to)
        assert "Amount due" in first and f"{Decimal(str(amount_due)):,.2f}" in first
        assert "Payment instructions" in " ".join(pages[-1].split())  # under the total, on the last page
        for word in FORBIDDEN:
            assert word not in flat, (customer, word)


def long_statement(name: str, n: int) -> Tab:
    day = date(2026, 1, 1)
    rows = [
        [Link(f"https://x.test/{i}.pdf?APIKeyID=9", f"INV-{i:05d}"), day + timedelta(days=i), Decimal("10.00")]
        for i in range(n)
    ]
    columns = [
        Column("Invoice", total=Total.LABEL),
        Column("Date", Format.DATE),
        Column("Open", Format.CURRENCY, total=Total.SUM),
    ]
    statement = Statement(
        PLACEHOLDER_COMPANY, [name, "1 Main St"], [("Statement date", "2026-03-01")], [], Decimal(n * 10)
    )
    return Tab(name, name, name, columns, rows, statement=statement, template="statement")


def test_page_x_of_y_counts_within_each_statement(tmp_path: Path) -> None:
    book = tmp_path / "statements.xlsx"
    write_workbook(Workbook("statements", [long_statement("Long Co", 150), long_statement("Short Co", 3)]), book)
    pdf = to_pdf([book], tmp_path / "pdf")[0]
    texts = [page_text(pdf, p) for p in range(1, page_count(pdf) + 1)]
    long_pages = [t for t in texts if "Long Co" in t]
    n = len(long_pages)
    assert n >= 3
    for number, text in enumerate(long_pages, start=1):
        assert f"Page {number} of {n}" in text
        assert "Invoice" in text  # the header row repeats on every page
        assert "Short Co" not in text
    assert [t for t in texts if "Short Co" in t and "Page 1 of 1" in t]
    found = {m for t in long_pages for m in re.findall(r"INV-\d{5}", t)}
    assert len(found) == 150  # every open item printed once, none lost at a page break
    assert "APIKeyID" not in "".join(texts)


def calibri_metrics() -> bool:
    """LibreOffice measures columns as Excel does only with Calibri or its metric twin Carlito installed."""
    found = subprocess.run(["fc-match", "Calibri"], capture_output=True, text=True, check=False).stdout
    return "Calibri" in found or "Carlito" in found


def wide_statement(n: int) -> Tab:
    """A statement with ar-aging's eight columns (printed at ~99 % in Excel, fitted to the page's width)."""
    day = date(2026, 1, 1)
    headers = ["Invoice", "Date", "Due date", "Days past due", "Aging", "Original", "Open balance", "Running"]
    formats = [Format.TEXT, Format.DATE, Format.DATE, Format.INTEGER, Format.TEXT, *[Format.CURRENCY] * 3]
    widths = [17, 11, 11, 8, 8, 14, 14, 14]
    totals = {0: Total.LABEL, 6: Total.SUM}
    columns = [Column(h, f, w, totals.get(i)) for i, (h, f, w) in enumerate(zip(headers, formats, widths, strict=True))]
    amount = Decimal("10.00")
    rows = [[f"INV-{i:05d}", day, day, i, "1-30", amount, amount, amount * (i + 1)] for i in range(n)]
    statement = Statement(
        PLACEHOLDER_COMPANY, ["Wide Co", "1 Main St"], [("Statement date", "2026-03-01")], [], n * amount
    )
    return Tab("Wide Co", "wide", "Wide Co", columns, rows, statement=statement, template="statement")


@pytest.mark.skipif(
    not calibri_metrics() and not os.environ.get("CI"), reason="needs Carlito (fonts-crosextra-carlito)"
)
def test_statement_pages_are_full(tmp_path: Path) -> None:
    """Each page of a long statement holds open items down to the bottom margin, and the pages the writer
    planned are the pages printed (no automatic break of the application's own in between)."""
    book = tmp_path / "wide.xlsx"
    write_workbook(Workbook("wide", [wide_statement(200)]), book)
    pdf = to_pdf([book], tmp_path / "pdf")[0]
    pages = statements_printed(pdf)
    assert len(pages) == 1 and f"Page {len(pages[0])} of {len(pages[0])}" in pages[0][-1]
    bottom = LETTER_PORTRAIT[1] - 0.75 * 72  # the bottom margin
    items = [[w.y for w in page_words(pdf, p) if w.text.startswith("INV-")] for p in range(1, page_count(pdf) + 1)]
    assert sum(len(ys) for ys in items) == 200
    for ys in items[:-2]:  # the last two pages may be shorter: the totals keep an open item with them
        assert max(ys) >= 0.9 * bottom, [len(page) for page in items]


def huge_balance_statement() -> Tab:
    """A statement with large balances: a bold total, the 12 pt Amount due box, and an aging band whose values
    sit over narrow columns (a date, the bucket name)."""
    amount = Decimal("987654.32")
    columns = [
        Column("Invoice", width=17, total=Total.LABEL),
        Column("Open balance", Format.CURRENCY, width=14, total=Total.SUM),
        Column("Running balance", Format.CURRENCY, width=14),
    ]
    rows = [[f"INV-{i:05d}", amount, amount * (i + 1)] for i in range(10)]
    band = [("Current", Decimal("123456.78")), ("1-30 days", Decimal("1234567.89")), ("Credits", Decimal("-98765.43"))]
    statement = Statement(
        PLACEHOLDER_COMPANY, ["Huge Co", "1 Main St"], [("Statement date", "2026-03-01")], band, amount * 10
    )
    columns[1:1] = [Column("Date", Format.DATE, width=11), Column("Aging", width=8)]  # narrow columns under the band
    rows = [[number, date(2026, 1, 1), "91+", *money] for number, *money in rows]
    return Tab("Huge Co", "huge", "Huge Co", columns, rows, statement=statement, template="statement")


@pytest.mark.skipif(
    not calibri_metrics() and not os.environ.get("CI"), reason="needs Carlito (fonts-crosextra-carlito)"
)
def test_no_number_prints_as_hashes(printed: dict[str, Any], tmp_path: Path) -> None:
    """Bold cells (totals, headers, the Amount due box) name their face and size: a font without them is
    filled from the application's own default (LibreOffice: a wider face), and a total that fits in Calibri
    printed as ### and headers broke mid-word ("Custome r ID")."""
    book = tmp_path / "huge.xlsx"
    write_workbook(Workbook("huge", [huge_balance_statement()]), book)
    pdfs = [*printed["pdfs"].values(), to_pdf([book], tmp_path / "pdf")[0]]
    for pdf in pdfs:
        for page in range(1, page_count(pdf) + 1):
            assert "###" not in page_text(pdf, page), (pdf.name, page)
    huge = " ".join(page_text(pdfs[-1], 1).split())
    assert "9,876,543.20" in huge  # the bold total and the Amount due, whole
    assert "123,456.78" in huge and "1,234,567.89" in huge and "(98,765.43)" in huge  # the aging band, whole
    summary = page_text(printed["pdfs"]["ar-aging"], 1).split()
    for word in ("Customer", "ID", "Total", "outstanding", "Statement", "date"):
        assert word in summary, word  # each header word printed whole: wrapped at a space, never mid-word
