"""The sinks' link rule: a cell never links to a URL that carries a credential (KSS PDFURL ?APIKeyID=)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetsync.model import Column, Link, Tab, Workbook
from sheetsync.sinks.gsheets_render import cell as gsheets_cell
from sheetsync.sinks.links import safe_link
from sheetsync.sinks.xlsx import write_workbook

UNSAFE = [
    "https://api.kssdata.com/api/v1/invoices/pdf?InvoiceID=12&APIKeyID=abc123",
    "https://example.com/statement?Key=123456",
    "https://x.test/a.pdf?api_key=1",
    "https://x.test/a.pdf?x-api-key=1",
    "https://x.test/a.pdf?access_token=1",
    "https://x.test/a.pdf?X-Amz-Signature=1&X-Amz-Credential=2",
    "https://x.test/a.pdf#token=1",
    "https://user:secret@x.test/a.pdf",
]
SAFE = ["https://example.com/api/invoice.pdf?InvoiceID=12", "https://x.test/a.pdf", "https://x.test/?monkey=1"]


@pytest.mark.parametrize("url", UNSAFE)
def test_a_url_naming_a_credential_is_not_linked(url: str) -> None:
    assert safe_link(url) is None


@pytest.mark.parametrize("url", SAFE)
def test_a_plain_url_is_linked(url: str) -> None:
    assert safe_link(url) == url


def _tab(template: str | None = None) -> Tab:
    rows = [[Link(UNSAFE[0], "INV-1")], [Link(SAFE[0], "INV-2")]]
    return Tab("Lines", "lines", "Lines", [Column("Invoice")], rows, template=template)


@pytest.mark.parametrize("template", [None, "statement"])
def test_xlsx_keeps_the_text_and_drops_only_the_unsafe_link(tmp_path: Path, template: str | None) -> None:
    path = tmp_path / "links.xlsx"
    write_workbook(Workbook("links", [_tab(template)]), path)
    ws = openpyxl.load_workbook(path)["Lines"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value in ("INV-1", "INV-2")}
    assert cells["INV-1"].hyperlink is None
    assert cells["INV-2"].hyperlink.target == SAFE[0]
    with open(path, "rb") as handle:
        assert b"APIKeyID" not in handle.read()


def test_google_sheets_cell_drops_the_unsafe_link() -> None:
    from sheetsync.model import Format

    unsafe = gsheets_cell(Link(UNSAFE[0], "INV-1"), Format.TEXT, "A1")
    assert unsafe["userEnteredValue"] == {"stringValue": "INV-1"} and "textFormatRuns" not in unsafe
    safe = gsheets_cell(Link(SAFE[0], "INV-2"), Format.TEXT, "A2")
    assert safe["textFormatRuns"][0]["format"]["link"] == {"uri": SAFE[0]}
