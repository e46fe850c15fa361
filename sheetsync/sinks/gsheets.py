"""Google Sheets sink: refresh the managed tabs of a spreadsheet in one atomic batchUpdate, and read
sheets back (GoogleSheetSource, in gsheets_read.py).

A refresh costs one metadata read (spreadsheets.get with a fields mask) and one batchUpdate carrying
every tab: new tabs (addSheet with sheet ids chosen here), resizes, typed cell data over the whole grid
(fields "*", so a shrinking report leaves no stale rows), formatting, and deleteSheet for managed tabs
whose key vanished. Managed tabs carry developer metadata `sheetsync.tab = Tab.key`; nothing else in
the spreadsheet is touched. Over MAX_PAYLOAD bytes the cell data first goes into hidden staging tabs
(one batchUpdate per chunk) and the final batchUpdate copyPastes it in, so the swap stays atomic.
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from google.auth.credentials import Credentials

from sheetsync.errors import SinkError
from sheetsync.model import Tab, Workbook
from sheetsync.sinks.digest import tab_digest
from sheetsync.sinks.google_auth import load_credentials
from sheetsync.sinks.gsheets_client import SheetsClient, set_session_factory
from sheetsync.sinks.gsheets_read import GoogleSheetSource
from sheetsync.sinks.gsheets_render import GridSize, chart_id, format_requests, grid_size, tab_rows
from sheetsync.sinks.gsheets_usercols import Moved, SheetLayout, carry_user_cells, merge_rows, notes_requests
from sheetsync.sinks.naming import block_name, key_block_name
from sheetsync.sinks.xlsx_cells import sheet_titles

__all__ = ["GoogleSheetSource", "load_credentials", "set_session_factory", "write_workbooks"]

TAB_KEY = "sheetsync.tab"
STAGING_KEY = "sheetsync.staging"
MAX_PAYLOAD = 2_000_000  # bytes of JSON per batchUpdate before the staging path is used
MAX_CELLS = 10_000_000
REQUEST_OVERHEAD = 200  # bytes of JSON around the rows of one updateCells request
HASH_KEY = "sheetsync.hash"
LAYOUT_KEY = "sheetsync.layout"
NOTES_KEY = "sheetsync.notes"
METADATA_FIELDS = (
    "spreadsheetId,namedRanges(namedRangeId,name,range(sheetId)),sheets(properties(sheetId,title,index,hidden,"
    "gridProperties(rowCount,columnCount)),developerMetadata(metadataId,metadataKey,metadataValue),"
    "conditionalFormats,basicFilter(range(sheetId)),charts(chartId))"
)


@dataclass
class ExistingSheet:
    sheet_id: int
    title: str
    size: GridSize
    key: str | None  # Tab.key of a managed tab
    staging: bool
    conditional_formats: int
    has_filter: bool
    charts: list[int]
    metadata: dict[str, tuple[int, str]] = field(default_factory=dict)  # key -> (metadataId, value)
    user_rules: dict[int, dict[str, Any]] = field(default_factory=dict)  # index -> a rule on user columns only

    @property
    def user_formats(self) -> set[int]:
        return set(self.user_rules)

    @property
    def layout(self) -> SheetLayout | None:
        return SheetLayout.loads(self.metadata.get(LAYOUT_KEY, (0, ""))[1])

    @property
    def digest(self) -> str | None:
        return self.metadata.get(HASH_KEY, (0, None))[1]


@dataclass
class PlannedTab:
    tab: Tab
    title: str  # the sheet title: the tab name made valid and unique, as the xlsx writer does
    sheet_id: int
    size: GridSize
    rows: list[dict[str, Any]]
    existing: ExistingSheet | None
    moved: Moved = field(default_factory=Moved)
    user_named: bool = False  # the title is the user's name for the tab, kept instead of the report's


def write_workbooks(
    spreadsheet_id: str,
    workbooks: list[Workbook],
    *,
    credentials: Credentials,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_payload: int = MAX_PAYLOAD,
    force: bool = False,
) -> dict[str, Any]:
    """Refresh the managed tabs of one spreadsheet from `workbooks`; returns stats (API calls made).

    When every tab's content hash equals the one stored on its sheet, nothing is written (one metadata
    read, `unchanged` in the stats) unless `force`."""
    tabs = _unique_tabs(workbooks)
    titles = dict(zip([t.key for t in tabs], sheet_titles([t.name for t in tabs]), strict=True))
    rendered = [(tab, titles[tab.key], tab_rows(tab), grid_size(tab)) for tab in tabs]  # refuses long cells first
    client = SheetsClient(credentials, spreadsheet_id, session=session, sleep=sleep)
    meta = client.get_spreadsheet(METADATA_FIELDS)
    existing = _parse_metadata(meta)
    planned = _plan(rendered, existing)
    vanished = [s for s in existing if _vanished(s, tabs) or s.staging]
    if not force and _unchanged(planned, vanished):
        return {"spreadsheet_id": spreadsheet_id, "unchanged": True, "api_calls": client.total_calls, "reads": 1}
    _refuse_named_range_clashes(planned, existing, meta.get("namedRanges", []))
    orphans, warnings = carry_user_cells(client, planned, [s for s in vanished if not s.staging])
    for p in planned:
        p.rows = merge_rows(p.rows, p.moved)
        p.size = GridSize(max(p.size.rows, len(p.rows)), max(p.size.columns, p.moved.end_column))
    _check_limits(planned, existing)
    context = _contexts(workbooks, titles)
    named = {r["name"]: r["namedRangeId"] for r in meta.get("namedRanges", []) if "name" in r}
    extra = _named_ranges(planned, vanished, named) + notes_requests(orphans, existing)
    requests_ = _final_requests(planned, vanished, context, [_data_request(p) for p in planned], extra)
    size = len(json.dumps({"requests": requests_}))  # as requests will encode it
    staged_calls = 0
    if size <= max_payload:
        client.update(requests_)
    else:
        _check_limits(planned, existing, staging=True)
        staged_calls = _send_staged(client, planned, existing, vanished, context, max_payload, extra)
    return {
        "spreadsheet_id": spreadsheet_id,
        "api_calls": client.total_calls,
        "reads": client.calls["get"],
        "batch_updates": client.calls["batchUpdate"],
        "staging_batches": staged_calls,
        "retries": client.retries,
        "payload_bytes": size,
        "tabs_written": len(planned),
        "tabs_added": sum(1 for p in planned if p.existing is None),
        "tabs_deleted": sum(1 for s in vanished if not s.staging),
        "rows_written": sum(len(p.tab.rows) for p in planned),
        "kept_cells": sum(len(p.moved.cells) for p in planned),
        "notes_without_a_row": len(orphans),
        "warnings": warnings,
    }


def _unchanged(planned: list[PlannedTab], vanished: list[ExistingSheet]) -> bool:
    """Every tab is on its sheet, under its title, with the same content hash; nothing to delete."""
    return not vanished and all(
        p.existing is not None and p.existing.title == p.title and p.existing.digest == tab_digest(p.tab)
        for p in planned
    )


def _refuse_named_range_clashes(planned: list[PlannedTab], existing: list[ExistingSheet], named: list[dict]) -> None:
    """SinkError, before any write, when a named range of the user's (on a sheet that is not the managed
    tab the name belongs to) has the name a data block needs: a refresh would move it."""
    sheets = {s.sheet_id: s for s in existing}
    ours = {block_name(p.tab): p.existing.sheet_id if p.existing else None for p in planned}
    clashes = []
    for entry in named:
        name, sheet_id = entry.get("name", ""), entry.get("range", {}).get("sheetId", 0)  # 0 is left out
        if name in ours and sheet_id in sheets and sheet_id != ours[name] and sheets[sheet_id].key is None:
            clashes.append(f"your named range {name!r} (on tab {sheets[sheet_id].title!r})")
    if clashes:
        raise SinkError(
            f"not refreshed, nothing written: {'; '.join(clashes)} has the name a report's data block needs"
        )


def _named_ranges(planned: list[PlannedTab], vanished: list[ExistingSheet], named: dict[str, str]) -> list[dict]:
    """A named range per data block, with the name of the xlsx table (sinks/naming.py)."""
    out: list[dict[str, Any]] = []
    for p in planned:
        tab = p.tab
        end = tab.header_row + max(len(tab.rows), 1)  # exclusive, 0-based: the header and the data rows
        grid = {"sheetId": p.sheet_id, "startRowIndex": tab.header_row - 1, "endRowIndex": end}
        grid |= {"startColumnIndex": 0, "endColumnIndex": max(len(tab.columns), 1)}
        name = block_name(tab)
        if name in named:
            out.append(
                {
                    "updateNamedRange": {
                        "namedRange": {"namedRangeId": named[name], "name": name, "range": grid},
                        "fields": "range",
                    }
                }
            )
        else:
            out.append({"addNamedRange": {"namedRange": {"name": name, "range": grid}}})
    ours = {block_name(p.tab) for p in planned}
    gone = {s.key for s in vanished if s.key}
    out += [
        {"deleteNamedRange": {"namedRangeId": named_id}}
        for name, named_id in named.items()
        if name not in ours and any(block_name_of_key(k) == name for k in gone)
    ]
    return out


def block_name_of_key(key: str) -> str:
    return key_block_name(key)


def _unique_tabs(workbooks: list[Workbook]) -> list[Tab]:
    tabs = [tab for workbook in workbooks for tab in workbook.tabs]
    for attribute in ("key",):
        seen: set[str] = set()
        for tab in tabs:
            value = getattr(tab, attribute)
            if value.lower() in seen:
                raise SinkError(f"two tabs share the {attribute} {value!r}: a Google Sheet needs them unique")
            seen.add(value.lower())
    return tabs


def _contexts(workbooks: list[Workbook], titles: dict[str, str]) -> dict[str, tuple[dict[str, Tab], dict[str, str]]]:
    """tab key -> (its workbook's tabs by name, their sheet titles by name): what validations refer to."""
    contexts = {}
    for workbook in workbooks:
        by_name = {tab.name: tab for tab in workbook.tabs}
        names = {tab.name: titles[tab.key] for tab in workbook.tabs}
        contexts.update({tab.key: (by_name, names) for tab in workbook.tabs})
    return contexts


def _parse_metadata(meta: dict[str, Any]) -> list[ExistingSheet]:
    sheets = []
    for sheet in meta.get("sheets", []):
        props = sheet["properties"]
        grid = props.get("gridProperties", {})
        metadata = {m.get("metadataKey"): m.get("metadataValue") for m in sheet.get("developerMetadata", [])}
        layout = SheetLayout.loads(metadata.get(LAYOUT_KEY))
        formats = sheet.get("conditionalFormats", [])
        sheets.append(
            ExistingSheet(
                sheet_id=props["sheetId"],
                title=props["title"],
                size=GridSize(grid.get("rowCount", 0), grid.get("columnCount", 0)),
                key=metadata.get(TAB_KEY),
                staging=STAGING_KEY in metadata,
                conditional_formats=len(sheet.get("conditionalFormats", [])),
                has_filter="basicFilter" in sheet,
                charts=[c["chartId"] for c in sheet.get("charts", []) if "chartId" in c],
                metadata={
                    m["metadataKey"]: (m.get("metadataId", 0), m.get("metadataValue", ""))
                    for m in sheet.get("developerMetadata", [])
                    if "metadataKey" in m
                },
                user_rules={i: rule for i, rule in enumerate(formats) if layout and _beyond(rule, layout.columns)},
            )
        )
    return sheets


def _beyond(rule: dict[str, Any], columns: int) -> bool:
    """A conditional format whose every range starts right of the report's columns (a user's own)."""
    ranges = rule.get("ranges", [])
    return bool(ranges) and all(r.get("startColumnIndex", 0) >= columns for r in ranges)


def _plan(rendered: list[tuple[Tab, str, list[dict], GridSize]], existing: list[ExistingSheet]) -> list[PlannedTab]:
    managed = {s.key: s for s in existing if s.key is not None and not s.staging}
    unmanaged_titles = {s.title.lower(): s for s in existing if s.key is None and not s.staging}
    taken = {s.sheet_id for s in existing}
    planned = []
    for tab, title, rows, size in rendered:
        if title.lower() in unmanaged_titles:
            raise SinkError(
                f"tab {title!r} already exists in the spreadsheet and is not managed by sheetsync; "
                "rename or delete it, sheetsync never overwrites tabs it did not create"
            )
        old = managed.get(tab.key)
        sheet_id = old.sheet_id if old else _new_id(tab.key, taken)
        taken.add(sheet_id)
        planned.append(PlannedTab(tab, title, sheet_id, size, rows, old))
    _keep_user_names(planned)
    return planned


def _keep_user_names(planned: list[PlannedTab]) -> None:
    """A managed tab the user renamed keeps their name (unless another tab of the report needs it)."""
    wanted = {p.title.casefold() for p in planned}
    for p in planned:
        layout = p.existing.layout if p.existing is not None else None
        if p.existing is None or layout is None or p.existing.title == p.title:
            continue
        renamed = layout.user_named or (layout.title and p.existing.title != layout.title)
        if renamed and p.existing.title.casefold() not in wanted:
            p.title, p.user_named = p.existing.title, True


def _new_id(seed: str, taken: set[int]) -> int:
    candidate = zlib.crc32(seed.encode()) % 2_000_000_000 + 1
    while candidate in taken:
        candidate = candidate % 2_000_000_000 + 1
    return candidate


def _check_limits(planned: list[PlannedTab], existing: list[ExistingSheet], *, staging: bool = False) -> None:
    """Google's 10 million cells per spreadsheet, all tabs counted (and, when staging, the old managed tabs
    and the staging copies, which exist together until the final swap)."""
    if staging:
        old = sum(s.size.cells for s in existing if not s.staging)
        total = old + sum(p.size.cells for p in planned if p.existing is None) + sum(p.size.cells for p in planned)
    else:
        kept = {p.existing.sheet_id for p in planned if p.existing}
        others = [s for s in existing if s.key is None and not s.staging and s.sheet_id not in kept]
        total = sum(s.size.cells for s in others) + sum(p.size.cells for p in planned)
    if total > MAX_CELLS:
        biggest = max(planned, key=lambda p: p.size.cells)
        during = " while staging a payload over 2 MB" if staging else ""
        raise SinkError(
            f"the spreadsheet would hold {total:,} cells{during}, over Google's limit of {MAX_CELLS:,}; the largest "
            f"tab is {biggest.title!r} ({biggest.size.rows:,} rows x {biggest.size.columns} columns)"
        )


def _grid(sheet_id: int, size: GridSize) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": size.rows,
        "startColumnIndex": 0,
        "endColumnIndex": size.columns,
    }


def _data_request(p: PlannedTab) -> dict[str, Any]:
    return {"updateCells": {"range": _grid(p.sheet_id, p.size), "rows": p.rows, "fields": "*"}}


def _vanished(sheet: ExistingSheet, tabs: list[Tab]) -> bool:
    """A managed tab of the same report whose key is gone. Keys are "<report>/<tab id>...", so two
    reports sharing one spreadsheet never delete each other's tabs ("/" or ":" ends the report part)."""
    if sheet.key is None or sheet.key in {t.key for t in tabs}:
        return False
    return _report_of(sheet.key) in {_report_of(t.key) for t in tabs}


def _report_of(key: str) -> str:
    return re.split(r"[/:]", key, maxsplit=1)[0]


def _final_requests(
    planned: list[PlannedTab],
    vanished: list[ExistingSheet],
    context: dict[str, tuple[dict[str, Tab], dict[str, str]]],
    data: list[Any],
    extra: list[dict[str, Any]] = [],  # noqa: B006 - never mutated
) -> list[dict[str, Any]]:
    titles = {p.title.lower() for p in planned}
    first = [s for s in vanished if s.title.lower() in titles]  # free the title before a new tab takes it
    requests_ = [{"deleteSheet": {"sheetId": s.sheet_id}} for s in first]
    for p, payload in zip(planned, data, strict=True):
        requests_ += _sheet_requests(p)
        requests_ += payload if isinstance(payload, list) else [payload]
        requests_ += format_requests(p.tab, p.sheet_id, *context[p.tab.key])
        requests_ += _user_widths(p) + _metadata_requests(p)
    named_deletes = [r for r in extra if "deleteNamedRange" in r]
    requests_ += named_deletes
    requests_ += [{"deleteSheet": {"sheetId": s.sheet_id}} for s in vanished if s not in first]
    return requests_ + [r for r in extra if r not in named_deletes]


def _moved_user_rules(p: PlannedTab) -> dict[int, dict[str, Any]]:
    """The user's highlight rules whose columns moved (the report's columns changed, or a column was
    inserted between them), at their new columns: index -> the rule to add again."""
    column_of = p.moved.column_of
    if column_of is None or p.existing is None:
        return {}
    out = {}
    for index, rule in p.existing.user_rules.items():
        ranges = [_moved_range(r, column_of) for r in rule.get("ranges", [])]
        if ranges != rule.get("ranges", []):
            out[index] = {**rule, "ranges": ranges}
    return out


def _moved_range(grid: dict[str, Any], column_of: Callable[[int], int]) -> dict[str, Any]:
    moved = dict(grid)
    if "startColumnIndex" in grid:
        moved["startColumnIndex"] = column_of(grid["startColumnIndex"])
    if "endColumnIndex" in grid:
        moved["endColumnIndex"] = column_of(grid["endColumnIndex"] - 1) + 1
    return moved


def _user_widths(p: PlannedTab) -> list[dict[str, Any]]:
    return [
        {
            "updateDimensionProperties": {
                "range": {"sheetId": p.sheet_id, "dimension": "COLUMNS", "startIndex": c, "endIndex": c + 1},
                "properties": {"pixelSize": pixels},
                "fields": "pixelSize",
            }
        }
        for c, pixels in sorted(p.moved.widths.items())
    ]


def _metadata_requests(p: PlannedTab) -> list[dict[str, Any]]:
    """The tab's content hash and layout on its sheet (replacing the previous ones)."""
    old = p.existing.metadata if p.existing else {}
    out: list[dict[str, Any]] = [
        {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {"metadataId": old[key][0]}}}}
        for key in (HASH_KEY, LAYOUT_KEY)
        if key in old
    ]
    layout = SheetLayout.of(p.tab, p.title, p.user_named)
    values = {HASH_KEY: tab_digest(p.tab), LAYOUT_KEY: layout.dumps()}
    out += [
        {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": key,
                    "metadataValue": value,
                    "visibility": "DOCUMENT",
                    "location": {"sheetId": p.sheet_id},
                }
            }
        }
        for key, value in values.items()
    ]
    return out


def _sheet_requests(p: PlannedTab) -> list[dict[str, Any]]:
    grid = {
        "rowCount": p.size.rows,
        "columnCount": p.size.columns,
        "frozenRowCount": p.tab.header_row if p.tab.freeze_header else 0,
    }
    if p.existing is None:
        return [
            {"addSheet": {"properties": {"sheetId": p.sheet_id, "title": p.title, "gridProperties": grid}}},
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {
                        "metadataKey": TAB_KEY,
                        "metadataValue": p.tab.key,
                        "visibility": "DOCUMENT",
                        "location": {"sheetId": p.sheet_id},
                    }
                }
            },
        ]
    requests_: list[dict[str, Any]] = [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": p.sheet_id, "title": p.title, "gridProperties": grid},
                "fields": "title,gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount",
            }
        }
    ]
    moving = _moved_user_rules(p)
    requests_ += [
        {"deleteConditionalFormatRule": {"sheetId": p.sheet_id, "index": i}}
        for i in reversed(range(p.existing.conditional_formats))
        if i not in p.existing.user_formats or i in moving
    ]
    requests_ += [{"addConditionalFormatRule": {"rule": rule, "index": 0}} for rule in moving.values()]
    ours = [c for c in p.existing.charts if c == chart_id(p.tab) or p.existing.layout is None]  # before ids: all
    requests_ += [{"deleteEmbeddedObject": {"objectId": c}} for c in ours]
    if p.existing.has_filter and not p.tab.autofilter:
        requests_.append({"clearBasicFilter": {"sheetId": p.sheet_id}})
    return requests_


# -- the staging path for payloads over MAX_PAYLOAD --------------------------------------------------
def _send_staged(
    client: SheetsClient,
    planned: list[PlannedTab],
    existing: list[ExistingSheet],
    vanished: list[ExistingSheet],
    context: dict[str, Any],
    max_payload: int,
    extra: list[dict[str, Any]],
) -> int:
    """Cell data into hidden staging tabs (one batchUpdate per chunk), then one atomic swap. Returns the
    number of staging batches."""
    staging = _staging_ids(planned, existing)
    batches = 0
    for batch in _staging_batches(planned, staging, max_payload):
        client.update(batch)
        batches += 1
    swap = [_swap_requests(p, staging[p.sheet_id]) for p in planned]
    cleanup = [{"deleteSheet": {"sheetId": sid}} for sid in staging.values()]
    client.update(_final_requests(planned, vanished, context, swap, extra) + cleanup)
    return batches


def _staging_ids(planned: list[PlannedTab], existing: list[ExistingSheet]) -> dict[int, int]:
    taken = {s.sheet_id for s in existing} | {p.sheet_id for p in planned}
    staging = {}
    for p in planned:
        staging[p.sheet_id] = _new_id(f"staging:{p.tab.key}", taken)
        taken.add(staging[p.sheet_id])
    return staging


def _staging_batches(planned: list[PlannedTab], staging: dict[int, int], limit: int) -> Iterator[list[dict]]:
    """addSheet for hidden staging tabs, then their cell data in chunks, each batch under `limit` bytes."""
    batch: list[dict[str, Any]] = []
    for p in planned:
        sid = staging[p.sheet_id]
        batch.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sid,
                        "title": f"_sheetsync_staging_{sid}",
                        "hidden": True,
                        "gridProperties": {"rowCount": p.size.rows, "columnCount": p.size.columns},
                    }
                }
            }
        )
        batch.append(
            {
                "createDeveloperMetadata": {
                    "developerMetadata": {
                        "metadataKey": STAGING_KEY,
                        "metadataValue": p.tab.key,
                        "visibility": "DOCUMENT",
                        "location": {"sheetId": sid},
                    }
                }
            }
        )
    used = len(json.dumps(batch))
    for p in planned:
        sid, start = staging[p.sheet_id], 0
        rows: list[Any] = []
        for index, row in enumerate(p.rows):
            size = len(json.dumps(row)) + 2
            if used + size + REQUEST_OVERHEAD > limit and (rows or batch):
                if rows:
                    batch.append(_staged_cells(sid, start, rows))
                yield batch
                batch, used, rows, start = [], 0, [], index
            rows.append(row)
            used += size
        if rows:
            batch.append(_staged_cells(sid, start, rows))
            used += REQUEST_OVERHEAD
    if batch:
        yield batch


def _staged_cells(sheet_id: int, start: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": start, "columnIndex": 0},
            "rows": rows,
            "fields": "*",
        }
    }


def _swap_requests(p: PlannedTab, staging_id: int) -> list[dict[str, Any]]:
    return [
        {"updateCells": {"range": _grid(p.sheet_id, p.size), "fields": "*"}},
        {
            "copyPaste": {
                "source": _grid(staging_id, p.size),
                "destination": _grid(p.sheet_id, p.size),
                "pasteType": "PASTE_NORMAL",
                "pasteOrientation": "NORMAL",
            }
        },
    ]
