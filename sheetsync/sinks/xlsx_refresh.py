"""Write a report into an xlsx file, refreshing an existing workbook in place.

A new file is the rendered workbook (xlsx_write.py) plus custom document properties recording which
tabs sheetsync manages there. An existing file is edited at the package level (xlsx_package.py): the
managed tabs of this report are replaced by the freshly rendered sheets (xlsx_transplant.py), the
columns users added beside them are carried over by row key (xlsx_usercols.py), new tabs are added at
the end, and every other part of the package (the user's sheets, formulas and their cached values,
names, charts, images, pivot tables, comments, macros) is kept byte for byte. The workbook is flagged
to recalculate on open, since formulas elsewhere may point at the refreshed cells.

What a refresh could not keep (a picture the user put on a managed tab, a user's sheet with the name
a report tab needs) is a SinkError naming it before anything is written. When the report's content
hash (run stamps excluded) equals the one recorded, nothing is written at all.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from lxml import etree

from sheetsync.errors import SinkError
from sheetsync.model import Tab, Workbook
from sheetsync.sinks.digest import workbook_digest
from sheetsync.sinks.naming import block_name, key_block_name
from sheetsync.sinks.xlsx_cellextras import attach
from sheetsync.sinks.xlsx_cells import sheet_titles
from sheetsync.sinks.xlsx_package import CellEdit, CellStyle, SheetEntry, XlsxPackage
from sheetsync.sinks.xlsx_tablecols import extend_table, users_table_columns
from sheetsync.sinks.xlsx_transplant import (
    SheetCopier,
    add_sheet_entry,
    carry_protection,
    copy_local_names,
    defined_names,
    drop_local_names,
    pictures_in,
    references_to,
    related_closure,
    remove_related,
    rename_sheet,
    replace_blockers,
    retarget_sheet_name,
    sheet_position,
    sheets_by_table,
    structure_locked,
)
from sheetsync.sinks.xlsx_usercols import Carried, Layout, Orphan, carry_user_columns, find_layout, has_header_row
from sheetsync.sinks.xlsx_worksheet import WorksheetXml
from sheetsync.sinks.xlsx_xml import MAIN, REL_NS

TAB_PROPERTY = "sheetsync.tab."
HASH_PROPERTY = "sheetsync.hash."
NOTES_PROPERTY = "sheetsync.notes"
NOTES_TITLE = "Notes without a row"
NOTES_HEADERS = ("Tab", "Key", "Column", "Value", "Formula", "Moved here on", "Note", "Link")


@dataclass(frozen=True)
class ManagedTab:
    """A tab sheetsync wrote into a workbook, as recorded in its custom properties."""

    key: str  # model.Tab.key, "<report>/<tab id>[-<split value>]"
    sheet: str
    layout: Layout
    user_named: bool = False  # the user renamed the tab: their name is kept by every refresh

    def to_property(self) -> str:
        layout = self.layout
        data: dict[str, object] = {"k": self.key, "s": self.sheet, "h": layout.header_row, "c": layout.columns}
        data["n"] = layout.rows
        if layout.first_column != 1:
            data["f"] = layout.first_column
        if layout.headers:
            data["hs"] = list(layout.headers)
        if layout.end_row:
            data["e"] = layout.end_row
        if self.user_named:
            data["u"] = 1
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_property(cls, text: str) -> ManagedTab | None:
        try:
            data = json.loads(text)
            headers = tuple(str(h) for h in data.get("hs", ()))
            numbers = (int(data["h"]), int(data["c"]), int(data["n"]), int(data.get("f", 1)))
            layout = Layout(*numbers, headers, int(data.get("e", 0)))
            return cls(data["k"], data["s"], layout, bool(data.get("u")))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class XlsxOutcome:
    """What a write did: "created", "refreshed" or "unchanged", and what it carried over."""

    path: Path
    status: str
    kept_cells: int = 0
    orphans: int = 0
    notes_tab: str | None = None
    released: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.status == "unchanged":
            return f"{self.path}: unchanged (same data as the last refresh; nothing written, --force to rewrite)"
        parts = [f"{self.path}: {self.status}"]
        if self.kept_cells:
            parts.append(f"kept {self.kept_cells} cell(s) you added beside the report")
        if self.orphans:
            parts.append(f"{self.orphans} note(s) whose row is gone moved to tab {self.notes_tab!r}")
        return "; ".join(parts)


def report_of(key: str) -> str:
    return re.split(r"[/:]", key, maxsplit=1)[0]


def managed_tabs(package: XlsxPackage) -> list[ManagedTab]:
    props = package.custom_properties()
    found = [ManagedTab.from_property(v) for k, v in sorted(props.items()) if k.startswith(TAB_PROPERTY)]
    return [tab for tab in found if tab is not None]


def sheet_titles_of(package: XlsxPackage) -> list[str]:
    return [entry.name for entry in package.sheets()]


def write_report_xlsx(
    workbook: Workbook, path: Path, *, templates_dir: Path | None = None, force: bool = False
) -> XlsxOutcome:
    """Write `workbook` to `path`: a new file, or a refresh in place of an existing workbook (see the
    module docstring). Atomic; SinkError (file untouched) when something could not be kept."""
    path = Path(path)
    reports = {report_of(tab.key) for tab in workbook.tabs}
    digest = workbook_digest(workbook.tabs)
    target = XlsxPackage.open(path) if path.exists() else None
    if target is not None and not force and _unchanged(target, reports, digest):
        return XlsxOutcome(path, "unchanged")
    from sheetsync.sinks.xlsx_write import write_workbook

    with tempfile.TemporaryDirectory(prefix="sheetsync-") as scratch:
        fresh_path = Path(scratch) / "fresh.xlsx"
        write_workbook(workbook, fresh_path, templates_dir=templates_dir)
        fresh = XlsxPackage.open(fresh_path)
        if target is None:
            _record(fresh, [], _managed_from(workbook, fresh), reports, digest)
            fresh.save(path)
            return XlsxOutcome(path, "created")
        outcome = refresh(target, fresh, workbook, reports, digest)
        target.save()
        return outcome


def _unchanged(target: XlsxPackage, reports: set[str], digest: str) -> bool:
    props = target.custom_properties()
    if any(props.get(HASH_PROPERTY + report) != digest for report in reports):
        return False
    titles = {name.casefold() for name in sheet_titles_of(target)}
    mine = [m for m in managed_tabs(target) if report_of(m.key) in reports]
    return bool(mine) and all(m.sheet.casefold() in titles for m in mine)


def _managed_from(workbook: Workbook, fresh: XlsxPackage) -> list[ManagedTab]:
    """The tabs of a freshly rendered workbook, with where each one's table is."""
    report = next(iter(sorted({report_of(tab.key) for tab in workbook.tabs})), "report")
    managed = []
    for entry, tab in _pairs(workbook, fresh):
        if tab is None:  # a sheet the writer adds beside the tabs (e.g. "About")
            managed.append(ManagedTab(f"{report}/~{entry.name}", entry.name, Layout(0, 0, 0)))
        else:
            managed.append(ManagedTab(tab.key, entry.name, find_layout(fresh, entry.part, tab)))
    return managed


def _pairs(workbook: Workbook, fresh: XlsxPackage) -> list[tuple[SheetEntry, Tab | None]]:
    """Each rendered sheet with its tab (matched by sheet title, as xlsx_write names them)."""
    titles = dict(zip(sheet_titles([tab.name for tab in workbook.tabs]), workbook.tabs, strict=True))
    return [(entry, titles.get(entry.name)) for entry in fresh.sheets()]


def _record(
    package: XlsxPackage, kept: list[ManagedTab], tabs: list[ManagedTab], reports: set[str], digest: str
) -> None:
    props = package.custom_properties()
    changes: dict[str, str | None] = {name: None for name in props if name.startswith(TAB_PROPERTY)}
    for number, tab in enumerate([*kept, *tabs], start=1):
        changes[f"{TAB_PROPERTY}{number:03d}"] = tab.to_property()
    for report in reports:
        changes[HASH_PROPERTY + report] = digest
    package.set_custom_properties(changes)


@dataclass
class _Step:
    fresh: SheetEntry
    tab: Tab | None  # None for a sheet the writer adds beside the tabs
    new: ManagedTab  # its .sheet is the tab's title in the workbook after the refresh
    old: SheetEntry | None
    managed: ManagedTab | None
    warning: str | None = None


def refresh(target: XlsxPackage, fresh: XlsxPackage, workbook: Workbook, reports: set[str], digest: str) -> XlsxOutcome:
    """Replace this report's managed tabs of `target` with the sheets of `fresh`; see the module docstring."""
    steps, released, others = _plan(target, fresh, workbook, reports)
    outcome = XlsxOutcome(target.path, "refreshed", released=[m.sheet for m in released])
    outcome.warnings += [
        f"tab {m.sheet!r} is no longer in the report; it is kept as it was and no longer refreshed" for m in released
    ]
    copier = SheetCopier(target, fresh)
    fresh_positions = {entry.name: index for index, entry in enumerate(fresh.sheets())}
    orphans: list[Orphan] = []
    outcome.warnings += [step.warning for step in steps if step.warning]
    for step in steps:
        carried = _apply(target, copier, step, fresh_positions[step.fresh.name])
        outcome.kept_cells += carried.cells
        outcome.warnings += carried.warnings
        orphans += carried.orphans
    if orphans:
        outcome.notes_tab = write_orphans(target, orphans)
        outcome.orphans = len(orphans)
    _record(target, others, [step.new for step in steps], reports, digest)
    target.recalculate = True
    return outcome


def _plan(
    target: XlsxPackage, fresh: XlsxPackage, workbook: Workbook, reports: set[str]
) -> tuple[list[_Step], list[ManagedTab], list[ManagedTab]]:
    """The steps, the managed tabs this report no longer has (released), and other reports' tabs; or a
    SinkError naming everything that could not be kept."""
    existing = {entry.name.casefold(): entry for entry in target.sheets()}
    recorded = _find_managed(target, existing)
    mine = {m.key: m for m in recorded if report_of(m.key) in reports}
    others = [m for m in recorded if report_of(m.key) not in reports]
    planned = _managed_from(workbook, fresh)
    keys = {m.key for m in planned}
    replaced = {mine[k].sheet.casefold() for k in keys if k in mine}
    problems: list[str] = []
    steps = []
    for (entry, tab), new in zip(_pairs(workbook, fresh), planned, strict=True):
        managed = mine.get(new.key)
        old = existing[managed.sheet.casefold()] if managed else None
        step = _Step(entry, tab, new, old, managed)
        if old is not None:
            _keep_a_referenced_name(target, step)
            problems += _replace_problems(target, old, tab, pictures_in(fresh, entry))
        clash = existing.get(step.new.sheet.casefold())
        if clash is not None and clash is not old and clash.name.casefold() not in replaced:
            problems.append(_clash(target, clash, tab, recorded))
        steps.append(step)
    if structure_locked(target):
        problems += _structure_changes(steps)
    problems += _name_clashes(target, fresh, steps)
    titles = [step.new.sheet.casefold() for step in steps]
    problems += [
        f"two tabs of the report would be named {t!r}" for t in sorted({t for t in titles if titles.count(t) > 1})
    ]
    if problems:
        raise SinkError(f"{target.path}: not refreshed, nothing written: {'; '.join(problems)}")
    gone = [m for k, m in mine.items() if k not in keys]
    # an empty split (no customer gets a statement this run) keeps its tabs managed, as they were
    still = [m for m in gone if m.key.startswith(workbook.kept_keys)]
    return steps, [m for m in gone if m not in still], others + still


def _clash(target: XlsxPackage, clash: SheetEntry, tab: Tab | None, recorded: list[ManagedTab]) -> str:
    """Why a tab with the name a report tab needs cannot be replaced."""
    owner = next((m for m in recorded if m.sheet.casefold() == clash.name.casefold()), None)
    if owner is not None:
        return f"tab {clash.name!r} belongs to report {report_of(owner.key)!r} and the report needs that name"
    if tab is not None and has_header_row(target, clash.part, tab):
        return (
            f"tab {clash.name!r} has the report's name and columns but the workbook has no record that "
            "sheetsync wrote it (saved by an application that drops custom document properties, such as a "
            "Google Sheets download?): rename or delete the tab, or write to a new file"
        )
    return f"tab {clash.name!r} belongs to you (sheetsync did not write it) and the report needs that name"


def _name_clashes(target: XlsxPackage, fresh: XlsxPackage, steps: list[_Step]) -> list[str]:
    """The report's table names that a table or a defined name of the user's already has (a workbook
    cannot hold both: Excel would repair the file and drop one)."""
    replaced = {step.old.part for step in steps if step.old is not None}
    tables = sheets_by_table(target).items()
    theirs = {
        name: f"your table {name!r} on tab {entry.name!r}" for name, entry in tables if entry.part not in replaced
    }
    theirs.update({name.casefold(): f"your name {name!r}" for name in defined_names(target)})
    wanted = {step.fresh.part for step in steps}
    ours = [name for name, entry in sheets_by_table(fresh).items() if entry.part in wanted]
    return [f"{theirs[name]} has the name the report's table needs" for name in sorted(ours) if name in theirs]


def _structure_changes(steps: list[_Step]) -> list[str]:
    """What the refresh would add or rename in a workbook whose structure the user protected."""
    found = [f"tab {step.new.sheet!r} would be added" for step in steps if step.old is None]
    found += [
        f"tab {step.old.name!r} would be renamed {step.new.sheet!r}"
        for step in steps
        if step.old is not None and step.old.name != step.new.sheet
    ]
    if found:
        found[0] = "the workbook's structure is protected (Review > Protect Workbook) and " + found[0]
    return found


def _find_managed(target: XlsxPackage, existing: dict[str, SheetEntry]) -> list[ManagedTab]:
    """The recorded managed tabs still in the workbook, each under its current name: found by the
    recorded name, else (a tab the user renamed) by its table's stable name."""
    by_table = sheets_by_table(target)
    found = []
    for managed in managed_tabs(target):
        entry = existing.get(managed.sheet.casefold()) or by_table.get(key_block_name(managed.key).casefold())
        if entry is not None:
            found.append(
                managed if entry.name == managed.sheet else replace(managed, sheet=entry.name, user_named=True)
            )
    return found


def _replace_problems(target: XlsxPackage, old: SheetEntry, tab: Tab | None, own_pictures: int) -> list[str]:
    """`own_pictures`: pictures sheetsync itself puts on the tab (a template's logo), not the user's."""
    own_tables = {block_name(tab).casefold()} if tab is not None else set()
    own_charts = 1 if tab is not None and tab.chart else 0
    return replace_blockers(target, old, own_charts, own_tables, own_pictures)


def _keep_a_referenced_name(target: XlsxPackage, step: _Step) -> None:
    """A tab whose name changed (a customer renamed) keeps its old name when the user's formulas, names
    or charts refer to it, so they keep working; the run says so."""
    old = step.old
    if old is None or old.name == step.fresh.name:
        return
    if step.managed is not None and step.managed.user_named:  # the user's name for the tab wins
        step.new = replace(step.new, sheet=old.name, user_named=True)
        return
    users = references_to(target, old.name, {old.part, *related_closure(target, old.part)})  # not its own chart
    if users:
        step.new = replace(step.new, sheet=old.name)
        step.warning = (
            f"tab {old.name!r} keeps its name although the report now calls it {step.fresh.name!r}: "
            f"{', '.join(users)} refer to it by name (a name you give the tab in your spreadsheet "
            "application, which updates those references, is kept by every refresh)"
        )


def _apply(target: XlsxPackage, copier: SheetCopier, step: _Step, fresh_position: int) -> Carried:
    root = copier.sheet_root(step.fresh)
    carried = Carried()
    table_columns: list[Any] = []
    if step.old is not None and step.managed is not None:
        old = step.old
        if step.tab is not None and step.managed.layout.columns:
            layouts = (step.managed.layout, step.new.layout)
            carried = carry_user_columns(target, old.part, *layouts, step.tab, root, step.new.sheet)
            headers = [*step.managed.layout.headers, *(column.header for column in step.tab.columns)]
            table_columns = users_table_columns(target, old.part, block_name(step.tab), headers)
        carry_protection(target.read_xml(old.part), root)
        position = sheet_position(target, old.name)
        remove_related(target, old.part)
        target.put_xml(old.part, root)
        copier.copy_related(step.fresh.part, old.part)
        if old.name != step.new.sheet:
            rename_sheet(target, old.name, step.new.sheet)
        drop_local_names(target, position)
    else:
        part = target.free_name("xl/worksheets/sheet{n}.xml")
        target.put_xml(part, root)
        position = add_sheet_entry(target, step.fresh.name, part, hidden=step.fresh.state)
        copier.copy_related(step.fresh.part, part)
    copy_local_names(target, copier.source, fresh_position, position)
    part = target.sheet(step.new.sheet).part
    if step.new.sheet != step.fresh.name:
        retarget_sheet_name(target, part, position, step.fresh.name, step.new.sheet)
    attach(target, part, carried.extras)
    if step.tab is not None:
        extend_table(target, part, block_name(step.tab), table_columns, step.new.layout.header_row)
    return carried


# -- notes whose row is gone ----------------------------------------------------------------------
def write_orphans(target: XlsxPackage, orphans: list[Orphan]) -> str:
    """Append the orphaned cells to the notes tab (created when missing); returns its name."""
    title = _notes_sheet(target)
    entry = target.sheet(title)
    sheet = WorksheetXml(target.xml(entry.part))
    last = max((number for number, row in sheet.rows() if len(row)), default=0)
    bold = CellStyle(bold=True)  # the header row is ours: rewritten, so older notes tabs get new columns
    edits = [CellEdit(title, f"{chr(65 + i)}1", header, bold) for i, header in enumerate(NOTES_HEADERS)]
    last = max(last, 1)
    today = date.today()
    for offset, orphan in enumerate(orphans, start=last + 1):
        values = [orphan.tab, orphan.key, orphan.header, orphan.value, orphan.formula, today]
        values += [orphan.note or None, orphan.link or None]
        edits += [
            CellEdit(title, f"{chr(65 + i)}{offset}", value) for i, value in enumerate(values) if value is not None
        ]
    target.set_cells(edits)
    return title


def _notes_sheet(target: XlsxPackage) -> str:
    names = {name.casefold(): name for name in sheet_titles_of(target)}
    recorded = target.custom_properties().get(NOTES_PROPERTY)
    if recorded and recorded.casefold() in names:
        return names[recorded.casefold()]
    title, n = NOTES_TITLE, 1
    while title.casefold() in names:
        n += 1
        title = f"{NOTES_TITLE} ({n})"
    root = etree.Element(f"{{{MAIN}}}worksheet", nsmap={None: MAIN, "r": REL_NS})
    etree.SubElement(root, f"{{{MAIN}}}sheetData")
    part = target.free_name("xl/worksheets/sheet{n}.xml")
    target.put_xml(part, root)
    add_sheet_entry(target, title, part)
    target.set_custom_properties({NOTES_PROPERTY: title})
    return title


__all__ = ["XlsxOutcome", "managed_tabs", "write_report_xlsx"]
