"""Columns the user added to a report's Excel table. Excel makes a header typed beside a table one of
its columns (AutoCorrect's "include new rows and columns in table", on by default), so a "Buyer notes"
column added in Excel is usually a table column, and formulas elsewhere refer to it as
`price_list_customer_12[Buyer notes]`. The refresh writes the report's table afresh; these helpers put
the user's table columns back into it where their cells landed, so those references keep resolving."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sheetsync.sinks.xlsx_package import XlsxPackage
from sheetsync.sinks.xlsx_transplant import rel_kind
from sheetsync.sinks.xlsx_worksheet import CellReader, WorksheetXml, column_letters, split_ref
from sheetsync.sinks.xlsx_xml import NS, q


def table_part(package: XlsxPackage, sheet_part: str, name: str) -> str | None:
    """The part of the table `name` (case-insensitive) that `sheet_part` relates to, if any."""
    for rel in package.relationships(sheet_part):
        if rel.external or rel_kind(rel.type) != "table" or not package.has(rel.target):
            continue
        if (package.read_xml(rel.target).get("name") or "").casefold() == name.casefold():
            return rel.target
    return None


def users_table_columns(package: XlsxPackage, sheet_part: str, name: str, report_headers: Iterable[str]) -> list[Any]:
    """Copies of the <tableColumn>s of table `name` on `sheet_part` that are not the report's columns
    (matched by header), left to right: the columns the user added to the table."""
    part = table_part(package, sheet_part, name)
    if part is None:
        return []
    report = {header.strip().casefold() for header in report_headers}
    columns = package.read_xml(part).iterfind("m:tableColumns/m:tableColumn", NS)
    return [copy.deepcopy(c) for c in columns if (c.get("name") or "").strip().casefold() not in report]


def extend_table(package: XlsxPackage, sheet_part: str, name: str, columns: list[Any], header_row: int) -> int:
    """Append the user's `columns` to the refreshed table `name` on `sheet_part`, as far as the headers
    right of the table (row `header_row`) name them in that order; returns how many were appended."""
    part = table_part(package, sheet_part, name) if columns else None
    if part is None:
        return 0
    headers = _header_texts(package, WorksheetXml(package.xml(sheet_part)), header_row)
    table = package.xml(part)
    first, last = (table.get("ref") or "").split(":")
    last_row, end = split_ref(last)
    holder = table.find(q("tableColumns"))
    next_id = max((int(c.get("id") or 0) for c in holder.iterfind(q("tableColumn"))), default=0) + 1
    added = 0
    for column in columns:
        if headers.get(end + 1, "").strip().casefold() != (column.get("name") or "").strip().casefold():
            break
        column.set("id", str(next_id + added))
        holder.append(column)
        end, added = end + 1, added + 1
    if added:
        ref = f"{first}:{column_letters(end)}{last_row}"
        holder.set("count", str(len(holder)))
        table.set("ref", ref)
        auto_filter = table.find(q("autoFilter"))
        if auto_filter is not None:
            auto_filter.set("ref", ref)
    return added


def _header_texts(package: XlsxPackage, sheet: WorksheetXml, header_row: int) -> dict[int, str]:
    reader = CellReader(package)
    for number, row in sheet.rows():
        if number == header_row:
            return {split_ref(c.get("r"))[1]: str(reader.value(c) or "") for c in row.iterfind(q("c")) if c.get("r")}
    return {}
