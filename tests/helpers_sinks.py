"""Write one model workbook through every real sink and read each back the way a user's tool would.

`read_back(workbook, tmp_path)` -> {reader name: {tab title: rows of values}} for openpyxl, python-calamine,
LibreOffice (when installed, or always on CI) and the Google Sheets double. Dates come back as `date`
(calamine and the Sheets double give serial numbers for the Sheets double, converted here)."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from helpers_lo import recalculate_with_libreoffice, soffice
from python_calamine import CalamineWorkbook
from sheets_double import FakeServiceAccountCredentials, SheetsDouble

from sheetsync.model import Format, Workbook
from sheetsync.sinks.gsheets import write_workbooks
from sheetsync.sinks.targets import XlsxTarget, write_outputs
from sheetsync.sinks.text import GOOGLE, sanitize_workbook

Rows = list[list[Any]]
SHEET_ID = "SPREADSHEET-READBACK"


def with_libreoffice() -> bool:
    return soffice() is not None or bool(os.environ.get("CI"))


def read_xlsx(path: Path, *, data_only: bool = False) -> dict[str, Rows]:
    book = openpyxl.load_workbook(path, data_only=data_only)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def read_calamine(path: Path) -> dict[str, Rows]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


def write_google(workbook: Workbook, double: SheetsDouble | None = None) -> tuple[SheetsDouble, dict[str, Any]]:
    double = double or SheetsDouble()
    if SHEET_ID not in double.spreadsheets:
        double.add_spreadsheet(SHEET_ID)
    creds = FakeServiceAccountCredentials()
    session = double.session(creds)
    stats = write_workbooks(SHEET_ID, [workbook], credentials=creds, session=session, sleep=lambda s: None)
    return double, stats


def read_google(double: SheetsDouble, workbook: Workbook) -> dict[str, Rows]:
    book = double.spreadsheets[SHEET_ID]
    out: dict[str, Rows] = {}
    for sheet in book.sheets:
        tab = next((t for t in workbook.tabs if t.name == sheet.title), None)
        rows = [sheet.row_values(r) for r in range(1, sheet.used_rows() + 1)]
        if tab is not None:
            rows = [_google_dates(row, tab.columns, i + 1 >= tab.first_data_row) for i, row in enumerate(rows)]
        out[sheet.title] = rows
    return out


def _google_dates(row: list[Any], columns: Any, data: bool) -> list[Any]:
    if not data:
        return row
    out = list(row)
    for i, column in enumerate(columns):
        if i < len(out) and isinstance(out[i], int | float) and column.format is Format.DATE:
            out[i] = date(1899, 12, 30) + timedelta(days=int(out[i]))
    return out


def read_back(workbook: Workbook, tmp_path: Path, *, libreoffice: bool | None = None) -> dict[str, dict[str, Rows]]:
    """Every reader's view of `workbook` written through the xlsx sink and the Google Sheets sink."""
    path = tmp_path / "in" / f"{workbook.name}.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_outputs([XlsxTarget(path)], [workbook])  # the run's path: sanitiser, then the xlsx writer
    views = {"openpyxl": read_xlsx(path), "calamine": read_calamine(path)}
    if with_libreoffice() if libreoffice is None else libreoffice:
        converted = recalculate_with_libreoffice(path, tmp_path / "lo")
        views["libreoffice"] = read_xlsx(converted, data_only=True)  # the values LibreOffice calculated
    for_google, _ = sanitize_workbook(workbook, GOOGLE)  # what write_outputs does for a gsheet:// target
    double, _ = write_google(for_google)
    views["google"] = read_google(double, for_google)
    return views


def as_date(value: Any) -> Any:
    """A read-back date cell as a date (openpyxl and calamine give datetime or date)."""
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    return value


def column_values(rows: Rows, header: str, count: int | None = None) -> list[Any]:
    """The data values under `header`: `count` rows after the header row, or up to a blank or "Total" row."""
    start = next(i for i, row in enumerate(rows) if header in row)
    index = rows[start].index(header)
    out = []
    if count is not None:
        return [row[index] if index < len(row) else None for row in rows[start + 1 : start + 1 + count]]
    for row in rows[start + 1 :]:
        if not row or all(v in (None, "") for v in row) or "Total" in row:
            break
        out.append(row[index] if index < len(row) else None)
    return out
