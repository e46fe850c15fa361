"""Dated snapshots of one tab, so a team can compare this week with last (`snapshot:` of a scheduled job).

A snapshot is plain values (the tab's header row and data rows; no formulas, no table, no link to the
live tab), named with the run's time on the job's wall clock, and marked as a snapshot:

- Google Sheets: a new tab "Summary 2026-11-30 06:00" with developer metadata `sheetsync.snapshot`
  (JSON: the tab's key and the time). It carries no `sheetsync.tab` metadata, so a refresh never
  treats it as a managed tab and never deletes it as vanished (sinks/gsheets.py `_vanished`).
- xlsx: a dated file beside the workbook, "prices - Summary 2026-11-30 0600.xlsx" (":" cannot be in a
  file or sheet name), its custom document property `sheetsync.snapshot` saying the same. The live
  workbook is not touched, so its refresh in place (sinks/xlsx_refresh.py) never sees it.

The oldest snapshots of the same tab beyond `keep` are deleted; only ones carrying the mark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sheetsync.errors import SinkError
from sheetsync.model import Format, Tab, Workbook

SNAPSHOT_KEY = "sheetsync.snapshot"
MAX_TITLE = 31  # Excel's sheet-name limit, kept for Google too so the names match


@dataclass(frozen=True)
class SnapshotMark:
    """What a snapshot is of: the live tab's key, and when (ISO 8601, the job's zone)."""

    tab: str
    taken: str

    def to_text(self) -> str:
        return json.dumps({"tab": self.tab, "taken": self.taken}, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str | None) -> SnapshotMark | None:
        try:
            data = json.loads(text or "")
            return cls(str(data["tab"]), str(data["taken"]))
        except (ValueError, KeyError, TypeError):
            return None


def find_tab(workbook: Workbook, name: str) -> Tab | None:
    return next((tab for tab in workbook.tabs if tab.name.casefold() == name.casefold()), None)


def snapshot_title(tab_name: str, taken: datetime, *, for_file: bool = False) -> str:
    """`Summary 2026-11-30 06:00` (for a file name: `Summary 2026-11-30 0600`), within 31 characters."""
    stamp = taken.strftime("%Y-%m-%d %H%M" if for_file else "%Y-%m-%d %H:%M")
    return f"{tab_name[: MAX_TITLE - len(stamp) - 1].rstrip()} {stamp}"


# -- xlsx: a dated file beside the workbook -------------------------------------------------------
def snapshot_xlsx(workbook_path: Path, tab: Tab, taken: datetime, keep: int) -> tuple[Path | None, list[Path]]:
    """Write the dated snapshot file of `tab` beside `workbook_path` (None when it already exists) and
    delete the oldest marked snapshots of that tab beyond `keep`; returns (written, pruned)."""
    path = workbook_path.with_name(f"{workbook_path.stem} - {snapshot_title(tab.name, taken, for_file=True)}.xlsx")
    written = None
    if not path.exists():
        _write_values_xlsx(path, tab, SnapshotMark(tab.key, taken.isoformat()))
        written = path
    return written, _prune_files(workbook_path, tab.key, keep)


def _write_values_xlsx(path: Path, tab: Tab, mark: SnapshotMark) -> None:
    from openpyxl import Workbook as OpenpyxlWorkbook
    from openpyxl.packaging.custom import StringProperty

    book = OpenpyxlWorkbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = snapshot_title(tab.name, datetime.fromisoformat(mark.taken), for_file=True)
    for column, header in enumerate(c.header for c in tab.columns):
        _set(sheet.cell(1, column + 1), header)
    for row_number, values in enumerate(tab.rows, start=2):
        for column, value in enumerate(values, start=1):
            _set(sheet.cell(row_number, column), value, tab.columns[column - 1].format)
    book.custom_doc_props.append(StringProperty(name=SNAPSHOT_KEY, value=mark.to_text()))
    temp = path.with_name(f".{path.name}.tmp")
    try:
        book.save(temp)
        temp.replace(path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise SinkError(f"snapshot {path}: cannot write it ({exc.strerror or exc})") from None


def _set(cell: Any, value: Any, fmt: Format = Format.TEXT) -> None:
    if value is None:
        return
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # API text is text, never a formula
    elif fmt == Format.DATE:
        cell.number_format = "yyyy-mm-dd"


def _prune_files(workbook_path: Path, tab_key: str, keep: int) -> list[Path]:
    marked = []
    for candidate in workbook_path.parent.glob(f"{_glob_escape(workbook_path.stem)} - *.xlsx"):
        mark = _file_mark(candidate)
        if mark is not None and mark.tab == tab_key:
            marked.append((mark.taken, candidate))
    marked.sort()
    pruned = [path for _taken, path in marked[: max(len(marked) - keep, 0)]]
    for path in pruned:
        path.unlink(missing_ok=True)
    return pruned


def _file_mark(path: Path) -> SnapshotMark | None:
    from sheetsync.sinks.xlsx_package import XlsxPackage

    try:
        return SnapshotMark.from_text(XlsxPackage.open(path).custom_properties().get(SNAPSHOT_KEY))
    except Exception:  # not a readable workbook: not ours to delete
        return None


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


# -- Google Sheets: a dated tab -------------------------------------------------------------------
def snapshot_gsheet(
    spreadsheet_id: str, tab: Tab, taken: datetime, keep: int, *, credentials: Any, session: Any = None
) -> tuple[str | None, list[str]]:
    """Add the dated snapshot tab of `tab` and delete the oldest marked ones beyond `keep`, in one
    batchUpdate; returns (the new tab's title or None when it exists, the deleted titles)."""
    from sheetsync.sinks.gsheets_client import SheetsClient

    client = SheetsClient(credentials, spreadsheet_id, session=session)
    meta = client.get_spreadsheet("sheets(properties(sheetId,title),developerMetadata(metadataKey,metadataValue))")
    sheets = [_sheet_info(sheet) for sheet in meta.get("sheets", [])]
    title = snapshot_title(tab.name, taken)
    mark = SnapshotMark(tab.key, taken.isoformat())
    existing = {info[1].casefold() for info in sheets}
    requests: list[dict[str, Any]] = []
    mine = sorted((m.taken, sid, name) for sid, name, m in sheets if m is not None and m.tab == tab.key)
    added = None
    if title.casefold() not in existing:
        sheet_id = max((info[0] for info in sheets), default=0) + 1
        requests += _add_snapshot_tab(sheet_id, title, tab, mark)
        mine.append((mark.taken, sheet_id, title))
        added = title
    doomed = mine[: max(len(mine) - keep, 0)]
    requests += [{"deleteSheet": {"sheetId": sid}} for _taken, sid, _name in doomed]
    if requests:
        client.update(requests)
    return added, [name for _taken, _sid, name in doomed]


def _sheet_info(sheet: dict[str, Any]) -> tuple[int, str, SnapshotMark | None]:
    props = sheet["properties"]
    metadata = {m.get("metadataKey"): m.get("metadataValue") for m in sheet.get("developerMetadata", [])}
    mark = SnapshotMark.from_text(metadata.get(SNAPSHOT_KEY)) if SNAPSHOT_KEY in metadata else None
    return int(props["sheetId"]), str(props["title"]), mark


def _add_snapshot_tab(sheet_id: int, title: str, tab: Tab, mark: SnapshotMark) -> list[dict[str, Any]]:
    rows = _value_rows(tab)
    grid = {"rowCount": max(len(rows), 1), "columnCount": max(len(tab.columns), 1), "frozenRowCount": 1}
    metadata = {"metadataKey": SNAPSHOT_KEY, "metadataValue": mark.to_text(), "visibility": "DOCUMENT"}
    return [
        {"addSheet": {"properties": {"sheetId": sheet_id, "title": title, "gridProperties": grid}}},
        {"createDeveloperMetadata": {"developerMetadata": {**metadata, "location": {"sheetId": sheet_id}}}},
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": rows,
                "fields": "userEnteredValue,userEnteredFormat.numberFormat",
            }
        },
    ]


def _value_rows(tab: Tab) -> list[dict[str, Any]]:
    """Header and data rows as typed cells (numbers stay numbers, dates dates, text text)."""
    from sheetsync.sinks.gsheets_render import cell

    where = f"snapshot of tab {tab.name!r}"
    rows = [{"values": [cell(c.header, Format.TEXT, where) for c in tab.columns]}]
    for values in tab.rows:
        rows.append({"values": [cell(v, c.format, where) for c, v in zip(tab.columns, values, strict=False)]})
    return rows


def snapshot_targets(
    targets: Sequence[Any], workbooks: list[Workbook], tab_name: str, taken: datetime, keep: int, credentials: Any
) -> list[str]:
    """Snapshot `tab_name` into every output of a run; returns what was written and pruned, for the log."""
    from sheetsync.sinks.targets import DirectoryTarget, GSheetTarget, XlsxTarget
    from sheetsync.sinks.text import GOOGLE, XLSX, sanitize_workbook

    done: list[str] = []
    for target in targets:
        limits = GOOGLE if isinstance(target, GSheetTarget) else XLSX
        for workbook in workbooks:
            tab = find_tab(sanitize_workbook(workbook, limits)[0], tab_name)
            if tab is None:
                continue
            if isinstance(target, GSheetTarget):
                added, pruned = snapshot_gsheet(target.spreadsheet_id, tab, taken, keep, credentials=credentials)
                where = target.describe()
                done += [f"{where} tab {added!r}"] if added else []
                done += [f"pruned {where} tab {name!r}" for name in pruned]
                continue
            path = target.path if isinstance(target, XlsxTarget) else None
            if isinstance(target, DirectoryTarget):
                path = target.path / f"{workbook.name}.xlsx"
            assert path is not None
            written, removed = snapshot_xlsx(path, tab, taken, keep)
            done += [str(written)] if written else []
            done += [f"pruned {p}" for p in removed]
    return done
