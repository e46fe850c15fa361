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


def xlsx_target(source: SheetSource, path: Path, tab: str | None) -> SheetTarget:
    """An xlsx target; outcomes are written into the workbook's own cells, nothing else changes."""
    return SheetTarget(source, tab, str(path.resolve()))


def now_local() -> datetime:
    """The Updated time written beside an outcome: local, to the second, naive (as a sheet shows it)."""
    return datetime.now().replace(microsecond=0)
