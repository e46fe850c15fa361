"""The text sanitiser: every string reaches every sink in a form the format can hold, and what changed is
counted in a warning. Read back with openpyxl, python-calamine, LibreOffice and the Sheets double."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from helpers_sinks import read_back, read_google, read_xlsx, write_google

from sheetsync.model import Column, Link, RunWarning, Tab, Workbook
from sheetsync.sinks.targets import DirectoryTarget, XlsxTarget, write_outputs
from sheetsync.sinks.text import GOOGLE, XLSX, csv_cell, cut, length, sanitize_workbook, unique_sheet_names

EMOJI = "\U0001f600"  # one character, two UTF-16 code units
BAD = "Green \ufffe Door \uffff \ud800 Inc\x01"


def hostile_workbook() -> Workbook:
    tab = Tab(
        name="Customers",
        key="t/customers",
        title=f"Customers of {BAD}",
        columns=[Column("Name"), Column(f"Note {BAD}"), Column("Link")],
        rows=[
            [BAD, "plain", Link("https://example.com/\ufffe", BAD)],
            [EMOJI * 20_000, "x" * 40_000, None],
            ["y" * 60_000, "ok", None],
        ],
        info=[("Customer", BAD)],
        note=f"note {BAD}",
    )
    return Workbook("hostile", [tab])


def test_xml_forbidden_characters_and_limits_in_each_formats_units(tmp_path: Path) -> None:
    views = read_back(hostile_workbook(), tmp_path)
    assert set(views) >= {"openpyxl", "calamine", "google"}
    for reader, tabs in views.items():
        rows = tabs["Customers"]
        assert rows[0][0] == "Customers of Green \ufffd Door \ufffd \ufffd Inc\ufffd", reader
        assert rows[3][1] == "Note Green \ufffd Door \ufffd \ufffd Inc\ufffd", reader
        data = rows[4:]
        assert data[0][0] == "Green \ufffd Door \ufffd \ufffd Inc\ufffd", reader
        assert data[0][2] == "Green \ufffd Door \ufffd \ufffd Inc\ufffd", reader
        emoji, letters, long = data[1][0], data[1][1], data[2][0]
        assert set(emoji) == {EMOJI} and set(letters) == {"x"} and set(long) == {"y"}, reader
        if reader == "google":  # characters: 20,000 emoji and 40,000 letters fit; 60,000 are cut to 50,000
            assert (len(emoji), len(letters), len(long)) == (20_000, 40_000, 50_000)
        else:  # UTF-16 units: 16,383 emoji (32,766 units) and 32,767 letters
            assert (len(emoji), len(letters), len(long)) == (16_383, 32_767, 32_767), reader


def test_write_outputs_counts_what_it_changed_per_sink(tmp_path: Path) -> None:
    warnings: list[RunWarning] = []
    write_outputs([XlsxTarget(tmp_path / "h.xlsx")], [hostile_workbook()], warnings=warnings)
    by_code = {w.code: w for w in warnings}
    # title, header, info value, cell, link text, note
    assert "6 text value(s)" in by_code["text-forbidden-characters"].message
    assert "3 text value(s)" in by_code["text-truncated"].message and "32,767 UTF-16 units" in str(
        by_code["text-truncated"]
    )
    _, google = sanitize_workbook(hostile_workbook(), GOOGLE)
    assert "1 text value(s)" in {w.code: w for w in google}["text-truncated"].message


def test_the_model_given_to_write_outputs_is_left_as_it_was(tmp_path: Path) -> None:
    book = hostile_workbook()
    write_outputs([DirectoryTarget(tmp_path / "out")], [book])
    assert book.tabs[0].rows[1][1] == "x" * 40_000 and book.tabs[0].title.endswith("Inc\x01")


def test_tab_names_in_utf16_units_unique_after_cutting_and_never_history(tmp_path: Path) -> None:
    names = [EMOJI * 16, EMOJI * 16 + "b", "History", "history", "a" * 40, "a" * 40 + "b"]
    tabs = [Tab(n, f"k{i}", "t", [Column("c")], [["v"]]) for i, n in enumerate(names)]
    book = Workbook("names", tabs)
    path = tmp_path / "names.xlsx"
    write_outputs([XlsxTarget(path)], [book])
    titles = openpyxl.load_workbook(path).sheetnames
    assert all(length(t, utf16=True) <= 31 for t in titles), titles
    assert len({t.casefold() for t in titles}) == len(titles)
    assert "history" not in {t.casefold() for t in titles}
    assert titles[0] == EMOJI * 15 and titles[1].endswith("(2)")
    double, _ = write_google(sanitize_workbook(book, GOOGLE)[0])
    assert list(read_google(double, book)) == ["Sheet1", *titles]


def test_units_and_cutting() -> None:
    assert length(EMOJI * 3, utf16=True) == 6 and length(EMOJI * 3, utf16=False) == 3
    assert cut(EMOJI * 3, 5, utf16=True) == EMOJI * 2  # never half a surrogate pair
    assert unique_sheet_names(["x" * 40, "X" * 40], XLSX) == ["x" * 31, "X" * 27 + " (2)"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=Green Door", "'=Green Door"),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-31.05", "-31.05"),
        ("-1,234.50", "-1,234.50"),
        ("+5", "+5"),
        ("1e5", "1e5"),
        ("Green = Door", "Green = Door"),
        ("", ""),
    ],
)
def test_csv_cell_owasp_rule(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


def test_read_xlsx_helper_reads_every_tab(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    write_outputs([XlsxTarget(path)], [Workbook("x", [Tab("A", "a", "t", [Column("c")], [["v"]])])])
    assert list(read_xlsx(path)) == ["A"]


def test_a_tab_name_cut_by_the_layout_is_a_warning() -> None:
    from datetime import UTC, datetime

    from sheetsync.definition import parse_definition
    from sheetsync.report import render

    text = """name: n
title: N
sources:
  customers: {endpoint: customers, params: {AccountStatuses: [Active]}}
tabs:
  - id: t
    split: CustomerName
    name: "{{ CustomerName }}"
    columns: [CustomerID]
"""
    records = {"customers": [{"CustomerID": 1, "CustomerName": EMOJI * 16}, {"CustomerID": 2, "CustomerName": "Pine"}]}
    (book,), warnings = render(parse_definition(text, "n.yaml"), {}, records, {}, fetched_at=datetime.now(UTC))
    renamed = [w for w in warnings if isinstance(w, RunWarning) and w.code == "tab-renamed"]
    assert [t.name for t in book.tabs] == [EMOJI * 15, "Pine"]
    assert [w.subject for w in renamed] == [EMOJI * 16]
