"""Where a reverse path reads its rows and writes their outcomes: one sheet (xlsx or Google Sheet) and tab.

Shared by every reverse path (payments, Kotis orders): the ledger knows a sheet by `source_id`, and
outcomes go back through the sheet source's own surgical `write_back`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sheetsync.sinks.base import SheetSource


@dataclass
class SheetTarget:
    """Where outcomes go: the sheet the rows were read from."""

    source: SheetSource
    tab: str | None
    source_id: str  # identifies the sheet in the ledger (absolute path, or spreadsheet id + tab)
    row_by_row: bool = False  # Google Sheets: write each outcome as it happens, claim rows first

    def write(self, updates: dict[int, dict[str, Any]]) -> None:
        if updates:
            self.source.write_back(self.tab, updates)

    def where(self) -> str:
        """The sheet as named in messages: its id, and the tab when one was chosen."""
        return self.source_id + (f" [{self.tab}]" if self.tab else "")


def open_target(text: str, *, tab: str | None, default_tab: str, credentials: Any = None) -> SheetTarget:
    """The sheet a reverse path reads and writes back: an xlsx path or a Google Sheet (`credentials`),
    at `tab`, else `default_tab` when the sheet has one, else its first tab."""
    from sheetsync.sinks.targets import XlsxTarget, open_source, parse_target

    source = open_source(text, credentials=credentials)
    parsed = parse_target(text, role="input")
    if tab is None and default_tab in source.tab_names():
        tab = default_tab
    if isinstance(parsed, XlsxTarget):
        return xlsx_target(source, parsed.path, tab)
    return SheetTarget(source, tab, f"{parsed.describe()}#{tab or ''}", row_by_row=True)


def xlsx_target(source: SheetSource, path: Path, tab: str | None) -> SheetTarget:
    """An xlsx target; outcomes are written into the workbook's own cells, nothing else changes."""
    return SheetTarget(source, tab, str(path.resolve()))


def now_local() -> datetime:
    """The Updated time written beside an outcome: local, to the second, naive (as a sheet shows it)."""
    return datetime.now().replace(microsecond=0)
