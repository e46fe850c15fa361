"""Where a report goes (`-o`): an xlsx file, a directory of xlsx files, or a Google Sheet.

Targets are parsed and checked before anything is fetched, and Google credentials are loaded up
front too, so a typo in `-o` never costs a run's worth of API requests.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import SinkError
from sheetsync.model import RunWarning, Workbook
from sheetsync.sinks.text import GOOGLE, XLSX, TextLimits, sanitize_workbook

_GSHEET_URL = re.compile(r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]{10,})")
_GSHEET_ID = re.compile(r"^[A-Za-z0-9_-]{10,}$")


@dataclass(frozen=True)
class XlsxTarget:
    """One .xlsx file; a report with several workbooks needs a DirectoryTarget instead."""

    path: Path

    def describe(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class DirectoryTarget:
    """A directory: one `<workbook name>.xlsx` per workbook (created when missing)."""

    path: Path

    def describe(self) -> str:
        return f"{self.path}/"


@dataclass(frozen=True)
class GSheetTarget:
    """The managed tabs of one Google spreadsheet."""

    spreadsheet_id: str

    def describe(self) -> str:
        return f"gsheet://{self.spreadsheet_id}"


Target = XlsxTarget | DirectoryTarget | GSheetTarget


def parse_target(text: str, *, role: str = "output") -> Target:
    """`out.xlsx`, `some/dir/`, `gsheet://ID` or a docs.google.com spreadsheet URL; SinkError otherwise,
    calling the text an output or, with `role="input"`, an input."""
    if not text.strip():
        raise SinkError(
            f"{role} {text!r} is empty (an unset shell variable?): give an .xlsx path, a directory or gsheet://ID"
        )
    text = text.strip()
    if text.startswith("gsheet://"):
        spreadsheet_id = text.removeprefix("gsheet://").strip("/")
        if not _GSHEET_ID.match(spreadsheet_id):
            raise SinkError(f"{role} {text!r}: gsheet:// needs a spreadsheet ID (letters, digits, - and _)")
        return GSheetTarget(spreadsheet_id)
    match = _GSHEET_URL.match(text)
    if match:
        return GSheetTarget(match.group(1))
    if "://" in text or text.startswith("http"):
        raise SinkError(f"{role} {text!r} is not a local path, gsheet://ID or a docs.google.com/spreadsheets URL")
    path = Path(text).expanduser()
    if path.suffix.lower() == ".xlsx" or (role == "input" and path.suffix.lower() == ".xlsm"):
        return XlsxTarget(path)
    if path.suffix.lower() == ".xlsm":  # refreshed in place, macros kept; sheetsync never creates one
        if not path.is_file():
            raise SinkError(f"output {text!r}: sheetsync writes .xlsx; an .xlsm must already exist to be refreshed")
        return XlsxTarget(path)
    if text.endswith(("/", "\\")) or path.is_dir() or not path.suffix:
        if path.exists() and not path.is_dir():
            raise SinkError(f"{role} {text!r} is a file but not .xlsx")
        return DirectoryTarget(path)
    if role == "input":
        raise SinkError(
            f"input {text!r}: give an .xlsx or .xlsm workbook, gsheet://ID or a Google Sheets URL "
            f"({path.suffix or 'this'} cannot take outcomes back: open it in a spreadsheet program and save "
            "it as .xlsx)"
        )
    raise SinkError(f"{role} {text!r}: give an .xlsx path, a directory, gsheet://ID or a Google Sheets URL")


def check_targets(targets: Sequence[Target], *, many_workbooks: bool) -> None:
    """Refuse, before any fetching, outputs that could not be written."""
    for target in targets:
        if isinstance(target, XlsxTarget):
            if many_workbooks:
                raise SinkError(
                    f"output {target.path}: this report writes one workbook per value (bursting); "
                    "give a directory instead, e.g. -o out/"
                )
            parent = target.path.parent
            if not parent.is_dir():
                raise SinkError(f"output {target.path}: directory {parent} does not exist")
            if target.path.is_dir():
                raise SinkError(f"output {target.path} is a directory")
        elif isinstance(target, DirectoryTarget):
            existing = next((p for p in [target.path, *target.path.parents] if p.exists()), None)
            if existing is not None and not existing.is_dir():
                raise SinkError(f"output {target.path}: {existing} is a file, not a directory")
            if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
                raise SinkError(f"output {target.path}: {existing} is not writable")
        if (
            isinstance(target, XlsxTarget)
            and target.path.parent.is_dir()
            and not os.access(target.path.parent, os.W_OK | os.X_OK)
        ):
            raise SinkError(f"output {target.path}: directory {target.path.parent} is not writable")
        if isinstance(target, XlsxTarget):
            _probe(target.path)


def _probe(path: Path) -> None:
    """Refuse now a directory where no file can be created (/proc, a read-only mount), as root too."""
    try:
        with tempfile.TemporaryFile(prefix=f".{path.name}.", dir=path.parent):
            pass
    except OSError as exc:
        raise SinkError(f"output {path}: cannot create a file in {path.parent} ({exc.strerror or exc})") from None


def needs_google(targets: Sequence[Target]) -> bool:
    return any(isinstance(t, GSheetTarget) for t in targets)


def write_outputs(
    targets: Sequence[Target],
    workbooks: list[Workbook],
    *,
    credentials: Any = None,
    templates_dir: Path | None = None,
    sheets_stats: dict[str, Any] | None = None,
    warnings: list[RunWarning] | None = None,
    force: bool = False,
    xlsx_outcomes: list[Any] | None = None,
) -> list[str]:
    """Write the workbooks to every target; returns what was written (paths and gsheet:// ids).

    Every string passes the text sanitiser of the target's format first (sinks/text.py); what it changed
    is appended to `warnings` when given. An existing xlsx file is refreshed in place (see
    sinks/xlsx_refresh.py) and skipped when its data is unchanged, unless `force`; `xlsx_outcomes`, when
    given, receives each file's XlsxOutcome. `sheets_stats`, when given, receives each Google Sheet's
    write statistics (API calls) by id."""
    from sheetsync.sinks.xlsx_refresh import write_report_xlsx

    written: list[str] = []
    outcomes = xlsx_outcomes if xlsx_outcomes is not None else []

    def write_file(workbook: Workbook, path: Path) -> None:
        outcome = write_report_xlsx(workbook, path, templates_dir=templates_dir, force=force)
        outcomes.append(outcome)
        if warnings is not None:
            warnings.extend(RunWarning("xlsx-refresh", text, str(path)) for text in outcome.warnings)
        if outcome.status != "unchanged":
            written.append(str(path))

    workbooks = [wb for wb in workbooks if wb.tabs]  # nothing to show: a file or sheet is left as it was
    for target in targets:
        limits = GOOGLE if isinstance(target, GSheetTarget) else XLSX
        ready = _sanitized(workbooks, limits, warnings)
        if not ready:
            continue
        if isinstance(target, XlsxTarget):
            if len(ready) != 1:
                raise SinkError(f"output {target.path}: {len(ready)} workbooks need a directory output")
            write_file(ready[0], target.path)
        elif isinstance(target, DirectoryTarget):
            try:
                target.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SinkError(f"output {target.path}: cannot create the directory ({exc.strerror})") from None
            for workbook in ready:
                write_file(workbook, target.path / f"{workbook.name}.xlsx")
        else:
            from sheetsync.sinks.gsheets import write_workbooks

            stats = write_workbooks(target.spreadsheet_id, ready, credentials=credentials, force=force)
            if sheets_stats is not None:
                sheets_stats[target.spreadsheet_id] = stats
            if warnings is not None:
                warnings.extend(
                    RunWarning("gsheets-refresh", text, target.describe()) for text in stats.get("warnings", [])
                )
            if stats.get("unchanged"):
                outcomes.append(_Unchanged(target.describe()))
                continue
            written.append(f"{target.describe()} ({stats.get('api_calls', '?')} Google Sheets API calls)")
    return written


def _sanitized(workbooks: list[Workbook], limits: TextLimits, warnings: list[RunWarning] | None) -> list[Workbook]:
    out = []
    for workbook in workbooks:
        clean, changes = sanitize_workbook(workbook, limits)
        if warnings is not None:
            warnings.extend(w for w in changes if w not in warnings)
        out.append(clean)
    return out


@dataclass
class _Unchanged:
    """A Google Sheet whose data was already there (reported like an unchanged xlsx file)."""

    path: str
    status: str = "unchanged"
    kept_cells: int = 0
    orphans: int = 0
    notes_tab: str | None = None

    def describe(self) -> str:
        return f"{self.path}: unchanged (same data as the last refresh; 1 read, nothing written, --force to rewrite)"


def open_source(text: str, *, credentials: Any = None) -> Any:
    """A SheetSource for an xlsx/xlsm path or a Google Sheet (the reverse path reads these)."""
    target = parse_target(text, role="input")
    if isinstance(target, XlsxTarget):
        return _xlsx_source(target.path)
    if isinstance(target, GSheetTarget):
        from sheetsync.sinks.gsheets import GoogleSheetSource, load_credentials

        return GoogleSheetSource(target.spreadsheet_id, credentials=credentials or load_credentials(None))
    raise SinkError(f"input {text!r} is a directory; give an .xlsx file or a Google Sheet")


def _xlsx_source(path: Path) -> Any:
    from sheetsync.sinks.xlsx import XlsxSource

    if not path.exists():
        raise SinkError(f"no such workbook: {path}")
    return XlsxSource(path)
