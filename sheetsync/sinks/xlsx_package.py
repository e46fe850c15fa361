"""Edit an existing xlsx/xlsm package part by part, keeping every part it does not touch byte-identical.

openpyxl's load-and-save rewrites the whole workbook and drops what it does not model (charts and images
of a loaded file, pivot details, cached formula values, macros unless asked). This module edits the zip
package instead: a worksheet's XML is parsed (lxml, so namespace prefixes and unknown extensions stay as
they were), the cells asked for are changed, styles they need are appended to styles.xml (existing style
indices never move), and the package is written to a temporary file beside the original and moved over it.

The write-back API (one call, atomic):

    edit_cells(Path("book.xlsx"), [CellEdit("Payments", "H7", "posted"), CellEdit("Payments", "I7", date.today())])

or, for several steps on one package:

    package = XlsxPackage.open(path)
    package.set_cells([CellEdit("Payments", "H7", Decimal("12.50"), CellStyle(number_format='"$"#,##0.00'))])
    package.save()            # atomically over `path`; package.save(other) writes a copy

Values: str (always text, never a formula), int, float, Decimal, bool, date, datetime, `Formula` (the
workbook is then flagged to recalculate on open), None (clears the value, keeps the cell's style).
"""

from __future__ import annotations

import contextlib
import glob
import os
import posixpath
import tempfile
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from sheetsync.errors import SinkError
from sheetsync.sinks.xlsx_styles import CellStyle, StyleSheet
from sheetsync.sinks.xlsx_worksheet import Formula, WorksheetXml, set_cell_value, split_ref
from sheetsync.sinks.xlsx_xml import CT_NS, NS, PKG_REL, REL_NS, WORKBOOK_ORDER, insert_in_order, parse_xml, q, to_bytes

__all__ = ["CellEdit", "CellStyle", "Formula", "XlsxPackage", "edit_cells"]

CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CUSTOM_PROPS_TYPE = REL_NS + "/custom-properties"
CUSTOM_PROPS_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CALC_CHAIN_TYPE = REL_NS + "/calcChain"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
STALE_TEMP_SECONDS = 3600  # a temporary file of a write older than this was left by a killed process


@dataclass(frozen=True)
class CellEdit:
    """Set one cell: `sheet` is the tab name, `ref` an A1 reference ("H7"), `style` merged onto the
    cell's current style (None keeps it; a date on a cell without a date format gets yyyy-mm-dd)."""

    sheet: str
    ref: str
    value: Any
    style: CellStyle | None = None
    like: str | None = None  # an existing cell of the same sheet whose style the cell takes first


@dataclass(frozen=True)
class Relationship:
    rel_id: str
    type: str
    target: str  # the part name ("xl/worksheets/sheet1.xml") or, when external, the URL
    external: bool = False


@dataclass(frozen=True)
class SheetEntry:
    name: str
    sheet_id: int
    rel_id: str
    part: str
    state: str  # visible, hidden, veryHidden


def rels_name(part: str) -> str:
    """ "xl/worksheets/sheet1.xml" -> "xl/worksheets/_rels/sheet1.xml.rels"."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


class XlsxPackage:
    """An xlsx/xlsm zip package in memory: parts by name, in their original order."""

    def __init__(self, path: Path, parts: dict[str, bytes], infos: dict[str, zipfile.ZipInfo]) -> None:
        self.path = path
        self.parts = parts
        self._infos = infos
        self._xml: dict[str, Any] = {}  # parsed parts that may be changed; serialized on save
        self._styles: StyleSheet | None = None
        self.recalculate = False

    # -- opening and saving ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str) -> XlsxPackage:
        """Read the whole package. SinkError naming the file when it is not an xlsx/xlsm package."""
        path = Path(path)
        try:
            with zipfile.ZipFile(path) as archive:
                infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
                parts = {name: archive.read(name) for name in infos}
        except FileNotFoundError:
            raise SinkError(f"{path}: no such file") from None
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError) as exc:
            raise SinkError(f"{path}: not a readable xlsx workbook ({exc})") from None
        package = cls(path, parts, infos)
        if "[Content_Types].xml" not in parts or not package.workbook_part():
            raise SinkError(f"{path}: not an xlsx workbook (no workbook part)")
        return package

    def save(self, path: Path | str | None = None) -> None:
        """Write the package atomically (temporary file beside the target, flushed to disk, then one
        rename), through a symbolic link to the file it names. SinkError, nothing written, when the
        target is read-only (see `refuse_unwritable`)."""
        target = (Path(path) if path is not None else self.path).resolve()
        refuse_unwritable(target)
        self._flush()
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(target)
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "w+b") as handle:
                with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
                    for name, data in self.parts.items():
                        archive.writestr(self._zip_info(name), data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, _file_mode(target))
            os.replace(temp, target)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise SinkError(f"cannot write {target}: {exc.strerror or exc}") from exc
            raise

    def _zip_info(self, name: str) -> zipfile.ZipInfo:
        old = self._infos.get(name)
        info = zipfile.ZipInfo(name, date_time=old.date_time if old else (1980, 1, 1, 0, 0, 0))
        info.compress_type = old.compress_type if old else zipfile.ZIP_DEFLATED
        info.external_attr = old.external_attr if old else 0o600 << 16
        return info

    def _flush(self) -> None:
        if self.recalculate:
            self._flag_recalculation()
        if self._styles is not None and self._styles.changed:
            self._xml[self._styles.part] = self._styles.root
        for name, root in self._xml.items():
            self.parts[name] = to_bytes(root)
        self._xml.clear()

    # -- parts, relationships, content types --------------------------------------------------------
    def xml(self, part: str) -> Any:
        """The parsed part, kept for saving: changes made to it are written on save()."""
        if part not in self._xml:
            if part not in self.parts:
                raise SinkError(f"{self.path}: the package has no part {part}")
            self._xml[part] = parse_xml(self.parts[part])
        return self._xml[part]

    def read_xml(self, part: str) -> Any:
        """The parsed part, for reading only (a change to it is not saved)."""
        if part in self._xml:
            return self._xml[part]
        return parse_xml(self.parts[part])

    def has(self, part: str) -> bool:
        return part in self.parts or part in self._xml

    def put(self, part: str, data: bytes) -> None:
        self._xml.pop(part, None)
        self.parts[part] = data

    def put_xml(self, part: str, root: Any) -> None:
        """Store a parsed part (serialized on save)."""
        self.parts.setdefault(part, b"")
        self._xml[part] = root

    def remove(self, part: str) -> None:
        self._xml.pop(part, None)
        self.parts.pop(part, None)
        self.parts.pop(rels_name(part), None)
        self._xml.pop(rels_name(part), None)
        self.drop_content_type(part)

    def relationships(self, part: str) -> list[Relationship]:
        """The relationships of a part ("" for the package's own _rels/.rels), targets resolved."""
        name = rels_name(part) if part else "_rels/.rels"
        if not self.has(name):
            return []
        out = []
        for rel in self.read_xml(name).iter(f"{{{PKG_REL}}}Relationship"):
            external = rel.get("TargetMode") == "External"
            target = rel.get("Target", "")
            out.append(
                Relationship(
                    rel.get("Id"), rel.get("Type"), target if external else resolve_target(part, target), external
                )
            )
        return out

    def rels_root(self, part: str) -> Any:
        name = rels_name(part) if part else "_rels/.rels"
        if not self.has(name):
            self._xml[name] = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
        return self.xml(name)

    def add_relationship(self, part: str, rel_type: str, target: str, *, external: bool = False) -> str:
        """Add a relationship from `part` to `target` (a part name, or a URL when external); returns its Id."""
        root = self.rels_root(part)
        taken = {rel.get("Id") for rel in root}
        n = len(taken) + 1
        while f"rId{n}" in taken:
            n += 1
        rel = etree.SubElement(root, f"{{{PKG_REL}}}Relationship")
        rel.set("Id", f"rId{n}")
        rel.set("Type", rel_type)
        rel.set("Target", target if external else "/" + target)
        if external:
            rel.set("TargetMode", "External")
        return f"rId{n}"

    def remove_relationship(self, part: str, rel_id: str) -> None:
        root = self.rels_root(part)
        for rel in list(root):
            if rel.get("Id") == rel_id:
                root.remove(rel)

    def content_type(self, part: str) -> str | None:
        root = self.read_xml("[Content_Types].xml")
        for override in root.iter(f"{{{CT_NS}}}Override"):
            if override.get("PartName") == "/" + part:
                return override.get("ContentType")
        extension = PurePosixPath(part).suffix.lstrip(".").lower()
        for default in root.iter(f"{{{CT_NS}}}Default"):
            if default.get("Extension", "").lower() == extension:
                return default.get("ContentType")
        return None

    def set_content_type(self, part: str, content_type: str) -> None:
        root = self.xml("[Content_Types].xml")
        self.drop_content_type(part)
        extension = PurePosixPath(part).suffix.lstrip(".").lower()
        for default in root.iter(f"{{{CT_NS}}}Default"):
            if default.get("Extension", "").lower() == extension and default.get("ContentType") == content_type:
                return
        etree.SubElement(root, f"{{{CT_NS}}}Override", PartName="/" + part, ContentType=content_type)

    def drop_content_type(self, part: str) -> None:
        root = self.xml("[Content_Types].xml")
        for override in list(root.iter(f"{{{CT_NS}}}Override")):
            if override.get("PartName") == "/" + part:
                root.remove(override)

    def free_name(self, pattern: str) -> str:
        """The first unused part name of a pattern with one {n}: "xl/worksheets/sheet{n}.xml"."""
        n = 1
        while self.has(pattern.format(n=n)):
            n += 1
        return pattern.format(n=n)

    # -- the workbook ------------------------------------------------------------------------------
    def workbook_part(self) -> str:
        for rel in self.relationships(""):
            if rel.type.endswith("/officeDocument"):
                return rel.target
        return ""

    def sheets(self) -> list[SheetEntry]:
        """The workbook's worksheets in tab order (chart sheets and dialog sheets are left out)."""
        workbook = self.workbook_part()
        rels = {rel.rel_id: rel for rel in self.relationships(workbook)}
        out = []
        for sheet in self.read_xml(workbook).iterfind("m:sheets/m:sheet", NS):
            rel = rels.get(sheet.get(f"{{{REL_NS}}}id", ""))
            if rel is None or not rel.type.endswith("/worksheet"):
                continue
            out.append(
                SheetEntry(
                    sheet.get("name"), int(sheet.get("sheetId")), rel.rel_id, rel.target, sheet.get("state", "visible")
                )
            )
        return out

    def sheet(self, name: str) -> SheetEntry:
        """The worksheet with this name (matched ignoring case, as spreadsheets compare names)."""
        for entry in self.sheets():
            if entry.name.casefold() == name.casefold():
                return entry
        names = ", ".join(e.name for e in self.sheets())
        raise SinkError(f"{self.path}: no tab named {name!r} (tabs: {names})")

    @property
    def styles(self) -> StyleSheet:
        if self._styles is None:
            part = next(
                (r.target for r in self.relationships(self.workbook_part()) if r.type.endswith("/styles")), None
            )
            if part is None:
                raise SinkError(f"{self.path}: the workbook has no styles part")
            self._styles = StyleSheet(part, parse_xml(self.parts[part]))
        return self._styles

    def _flag_recalculation(self) -> None:
        """Ask Excel and LibreOffice to recalculate every formula on open, and drop the calculation chain
        (a cache Excel rebuilds; a stale one makes Excel report the file as damaged)."""
        workbook = self.workbook_part()
        root = self.xml(workbook)
        calc = root.find("m:calcPr", NS)
        if calc is None:
            calc = etree.SubElement(root, q("calcPr"))
            insert_in_order(root, calc, WORKBOOK_ORDER)
        calc.set("fullCalcOnLoad", "1")
        self.drop_calc_chain()

    def drop_calc_chain(self) -> None:
        workbook = self.workbook_part()
        for rel in self.relationships(workbook):
            if rel.type == CALC_CHAIN_TYPE:
                self.remove_relationship(workbook, rel.rel_id)
                self.remove(rel.target)

    # -- custom document properties ---------------------------------------------------------------
    def custom_properties(self) -> dict[str, str]:
        """docProps/custom.xml as name -> text value."""
        part = self._custom_part()
        if part is None:
            return {}
        out = {}
        for prop in self.read_xml(part).iter(f"{{{CUSTOM_NS}}}property"):
            value = next(iter(prop), None)
            out[prop.get("name")] = (value.text or "") if value is not None else ""
        return out

    def set_custom_properties(self, values: dict[str, str | None]) -> None:
        """Set (or, with None, remove) text custom properties, keeping every other one."""
        part = self._custom_part() or self._new_custom_part()
        root = self.xml(part)
        props = {p.get("name"): p for p in root.iter(f"{{{CUSTOM_NS}}}property")}
        for name, value in values.items():
            if name in props:
                root.remove(props.pop(name))
            if value is None:
                continue
            pid = max([int(p.get("pid", "1")) for p in root.iter(f"{{{CUSTOM_NS}}}property")] + [1]) + 1
            prop = etree.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid=FMTID, pid=str(pid), name=name)
            etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value

    def _custom_part(self) -> str | None:
        return next((r.target for r in self.relationships("") if r.type == CUSTOM_PROPS_TYPE), None)

    def _new_custom_part(self) -> str:
        part = "docProps/custom.xml"
        self._xml[part] = etree.Element(f"{{{CUSTOM_NS}}}Properties", nsmap={None: CUSTOM_NS, "vt": VT_NS})
        self.add_relationship("", CUSTOM_PROPS_TYPE, part)
        self.set_content_type(part, CUSTOM_PROPS_CT)
        return part

    # -- cells -------------------------------------------------------------------------------------
    def set_cells(self, edits: Iterable[CellEdit]) -> None:
        """Apply cell edits (see CellEdit); nothing is written until save()."""
        for edit in edits:
            entry = self.sheet(edit.sheet)
            row, column = split_ref(edit.ref)
            sheet = WorksheetXml(self.xml(entry.part))
            cell = sheet.cell(row, column)
            if edit.like:
                model = sheet.cell(*split_ref(edit.like)).get("s")
                if model is not None:
                    cell.set("s", model)
            if cell.find(q("f")) is not None:
                sheet.expand_shared_formula(cell)
                self.drop_calc_chain()
            self._write_value(cell, edit)
            sheet.include_in_dimension(row, column)

    def _write_value(self, cell: Any, edit: CellEdit) -> None:
        value = edit.value
        for child in list(cell):
            if child.tag in (q("f"), q("v"), q("is")):
                cell.remove(child)
        cell.attrib.pop("t", None)
        style = edit.style
        if isinstance(value, date) and (style is None or style.number_format is None):
            current = int(cell.get("s", "0"))
            if not self.styles.is_date_style(current):
                fmt = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else "yyyy-mm-dd"
                style = CellStyle(number_format=fmt) if style is None else style.with_format(fmt)
        if style is not None:
            cell.set("s", str(self.styles.merged(int(cell.get("s", "0")), style)))
        set_cell_value(cell, value)
        if isinstance(value, Formula):
            self.recalculate = True


def _file_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _remove_stale_temps(target: Path) -> None:
    """Delete the temporary files a killed earlier write left beside `target` (a write in progress
    elsewhere has a fresh one: only those older than STALE_TEMP_SECONDS go)."""
    now = time.time()
    for temp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                temp.unlink()


def refuse_unwritable(path: Path) -> None:
    """SinkError when an existing workbook must not be replaced: marked read-only (no write permission
    bit, or not writable by this user), or open in a spreadsheet application that keeps a lock file
    beside it (LibreOffice ".~lock.NAME#", Excel "~$NAME"), whose next save would undo ours."""
    if not path.exists():
        return
    mode = path.stat().st_mode
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise SinkError(f"{path}: the file is read-only; nothing written (make it writable to refresh it)")
    holder = open_by(path)
    if holder is not None:
        raise SinkError(f"{path}: the workbook is open in {holder}; nothing written (close it and run again)")


def open_by(path: Path) -> str | None:
    """Who has `path` open according to the lock file a spreadsheet application keeps beside it."""
    libreoffice = path.with_name(f".~lock.{path.name}#")
    if libreoffice.is_file():
        fields = libreoffice.read_text("utf-8", errors="replace").split(",")
        user = fields[1].strip() if len(fields) > 1 else ""
        return f"LibreOffice (by {user}, lock file {libreoffice.name})" if user else f"LibreOffice ({libreoffice.name})"
    for owner in {path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])}:
        if owner.is_file():
            return f"Excel (owner file {owner.name})"
    return None


def edit_cells(path: Path | str, edits: Iterable[CellEdit], *, copy_to: Path | str | None = None) -> None:
    """Set cells of an existing workbook and save atomically (to `copy_to` when given), every other part
    of the package byte-identical. SinkError (nothing written) on a missing tab or a bad reference."""
    package = XlsxPackage.open(path)
    package.set_cells(edits)
    package.save(copy_to)
