"""The streamed data rows of a plain tab (sinks/xlsx_stream.py) read back exactly as openpyxl's cell writer's."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from sheetsync.model import Column, Format, Link, Tab, Total, Workbook
from sheetsync.sinks import xlsx_stream
from sheetsync.sinks.xlsx import write_workbook

COLUMNS = [
    Column("Text"),
    Column("Qty", Format.INTEGER, total=Total.SUM),
    Column("Money", Format.CURRENCY, total=Total.SUM),
    Column("Rate", Format.DECIMAL),
    Column("Date", Format.DATE),
    Column("When", Format.DATETIME),
    Column("Flag"),
    Column("Code", Format.TEXT),
]
HOSTILE_ROWS: list[list[Any]] = [
    ["a & b < c > d", 1, Decimal("1.005"), Decimal("3.14159"), date(2026, 1, 25), None, True, "00012345678901234567"],
    ["  padded ", 2**70, Decimal("-2.5"), 1.5, date(1900, 1, 1), datetime(2026, 1, 25, 23, 59, 59), False, "=SUM(A1)"],
    ["", 0, Decimal("NaN"), None, date(1900, 3, 1), datetime(1899, 12, 31), None, "line\r\nbreak\ttab"],
    [Link("https://x.test/a?b=1&c=2", "site"), None, None, None, None, None, None, "+1"],
    ['ünï "q" 🎉', -7, Decimal("1E+3"), Decimal("12345678901234567.89"), None, None, True, "1e5"],
    ["x\x01y", 3, Decimal("0.001"), Decimal("-0"), date(9999, 12, 31), datetime(2000, 2, 29, 12), False, "0042"],
    [
        "tz",
        4,
        Decimal("7"),
        Decimal("7"),
        None,
        datetime(2026, 1, 25, 8, tzinfo=timezone(timedelta(hours=-5))),
        None,
        "\ud800 lone",
    ],
]


def write(tmp_path: Path, name: str, rows: list[list[Any]]) -> Path:
    path = tmp_path / f"{name}.xlsx"
    write_workbook(Workbook(name, [Tab("Data", "data", "Streamed", COLUMNS, rows, info=[("Rows", "7")])]), path)
    return path


def cells_of(path: Path) -> list[list[tuple[Any, str, str, str | None]]]:
    """(value, openpyxl data type, number format, hyperlink) of every cell of the data sheet."""
    sheet = openpyxl.load_workbook(path)["Data"]
    return [
        [(c.value, c.data_type, c.number_format, c.hyperlink.target if c.hyperlink else None) for c in row]
        for row in sheet.iter_rows()
    ]


@pytest.fixture
def streamed_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the data rows that took the streamed path."""
    counted: list[int] = []
    serialize = xlsx_stream.RowSerializer.__call__

    def counting(self: xlsx_stream.RowSerializer, values: Any, row_idx: int) -> Any:
        xml = serialize(self, values, row_idx)
        if xml is not None:
            counted.append(row_idx)
        return xml

    monkeypatch.setattr(xlsx_stream.RowSerializer, "__call__", counting)
    return counted


def test_streamed_rows_read_back_as_the_cell_writer_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed_rows: list[int]
) -> None:
    fast = cells_of(write(tmp_path, "fast", HOSTILE_ROWS))
    assert len(streamed_rows) == len(HOSTILE_ROWS) - 1  # all but the row with a link
    monkeypatch.setattr(xlsx_stream, "installed", lambda ws: False)
    assert fast == cells_of(write(tmp_path, "slow", HOSTILE_ROWS))


def test_streamed_cells_keep_every_fidelity_rule(tmp_path: Path, streamed_rows: list[int]) -> None:
    path = write(tmp_path, "rules", HOSTILE_ROWS)
    assert streamed_rows
    sheet = openpyxl.load_workbook(path)["Data"]
    first = 5  # title, info, blank, header
    assert sheet.cell(first, 1).value == "a & b < c > d"
    assert sheet.cell(first, 3).value == Decimal("1.01") or sheet.cell(first, 3).value == pytest.approx(1.01)
    assert sheet.cell(first, 5).value == datetime(2026, 1, 25)  # a date stays that date
    assert sheet.cell(first, 5).number_format == "yyyy-mm-dd"
    assert sheet.cell(first, 8).value == "00012345678901234567"  # every digit, as text
    assert sheet.cell(first, 8).data_type == "s"
    assert sheet.cell(first + 1, 1).value == "  padded "
    assert sheet.cell(first + 1, 8).value == "=SUM(A1)" and sheet.cell(first + 1, 8).data_type == "s"
    assert sheet.cell(first + 2, 8).value == "line\r\nbreak\ttab"
    assert sheet.cell(first + 4, 1).value == 'ünï "q" 🎉'
    assert sheet.cell(first + 5, 1).value == "x\ufffdy"  # a character XML cannot hold is replaced
    assert sheet.cell(first + 6, 6).value == datetime(2026, 1, 25, 8)  # as shown in its own zone
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data").to_python()
    assert calamine[first - 1][1] == 1 and calamine[first - 1][6] is True


def test_pandas_and_numpy_values_keep_fidelity_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library user's rows straight from a frame: missing markers are empty cells (not a crash, not "<NA>"),
    an int64 ID keeps every digit, a numpy date stays a date."""
    import numpy as np
    import pandas as pd

    rows: list[list[Any]] = [
        ["nat", None, 1, Decimal("1"), None, pd.NaT, None, "a"],
        ["na", np.int64(4611686018427387904), pd.NA, np.float64("nan"), np.datetime64("2026-01-02"), None, None, "b"],
    ]
    for name in ("fast", "slow"):
        if name == "slow":
            monkeypatch.setattr(xlsx_stream, "installed", lambda ws: False)
        sheet = openpyxl.load_workbook(write(tmp_path, name, rows))["Data"]
        first = 5
        assert sheet.cell(first, 6).value is None  # NaT: an empty cell
        assert sheet.cell(first + 1, 2).value == "4611686018427387904" and sheet.cell(first + 1, 2).data_type == "s"
        assert sheet.cell(first + 1, 3).value is None  # pd.NA
        assert sheet.cell(first + 1, 4).value is None  # NaN
        assert sheet.cell(first + 1, 5).value == datetime(2026, 1, 2)
