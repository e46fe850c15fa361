"""Move worksheets between packages: from a freshly rendered workbook (sheetsync's own output) into a
user's workbook, with the parts each sheet relates to (comments, drawings and charts, tables,
hyperlinks), its styles re-indexed into the user's styles.xml, and its print names.

Also here: what a managed sheet holds that a refresh could not keep (`replace_blockers`), and whether
anything else in the package refers to a sheet by name (`references_to`).
"""

from __future__ import annotations

import copy
import posixpath
import re
from typing import Any

from lxml import etree

from sheetsync.errors import SinkError
from sheetsync.sinks.xlsx_package import SheetEntry, XlsxPackage, rels_name
from sheetsync.sinks.xlsx_xml import MAIN, NS, PKG_REL, REL_NS, SHEET_ORDER, insert_in_order, q

WORKSHEET_TYPE = REL_NS + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
OWN_PART_TYPES = {"comments", "vmlDrawing", "drawing", "table", "hyperlink", "printerSettings"}
_NUMBERED = re.compile(r"^(.*?)(\d*)(\.[A-Za-z0-9]+)$")


def rel_kind(rel_type: str) -> str:
    return rel_type.rsplit("/", 1)[-1]


# -- copying a sheet in ---------------------------------------------------------------------------
class SheetCopier:
    """Copies sheets of `source` (a package sheetsync rendered) into `target` (the user's package)."""

    def __init__(self, target: XlsxPackage, source: XlsxPackage) -> None:
        self.target, self.source = target, source
        self._xf: dict[int, int] = {}
        self._dxf: dict[int, int] = {}

    def sheet_root(self, entry: SheetEntry) -> Any:
        """The source sheet's XML with style indices re-pointed into the target's styles, unselected."""
        root = copy.deepcopy(self.source.read_xml(entry.part))
        for element in root.iter(q("c"), q("row")):
            if element.get("s") is not None:
                element.set("s", str(self.xf(int(element.get("s")))))
        for col in root.iter(q("col")):
            if col.get("style") is not None:
                col.set("style", str(self.xf(int(col.get("style")))))
        for rule in root.iter(q("cfRule")):
            if rule.get("dxfId") is not None:
                rule.set("dxfId", str(self.dxf(int(rule.get("dxfId")))))
        for view in root.iter(q("sheetView")):
            view.attrib.pop("tabSelected", None)
        return root

    def xf(self, index: int) -> int:
        if index not in self._xf:
            self._xf[index] = self.target.styles.import_xf(self.source.styles, index)
        return self._xf[index]

    def dxf(self, index: int) -> int:
        if index not in self._dxf:
            self._dxf[index] = self.target.styles.import_dxf(self.source.styles, index)
        return self._dxf[index]

    def copy_related(self, source_part: str, target_part: str) -> None:
        """Copy every part `source_part` relates to (recursively) under free names in the target, and
        write `target_part`'s relationships with the same Ids (the sheet XML refers to them)."""
        self.target.parts.pop(rels_name(target_part), None)
        self.target._xml.pop(rels_name(target_part), None)
        copied: dict[str, str] = {}
        self._copy_rels(source_part, target_part, copied)

    def _copy_rels(self, source_part: str, target_part: str, copied: dict[str, str]) -> None:
        rels = self.source.relationships(source_part)
        if not rels:
            return
        root = etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
        for rel in rels:
            element = etree.SubElement(root, f"{{{PKG_REL}}}Relationship", Id=rel.rel_id, Type=rel.type)
            if rel.external:
                element.set("Target", rel.target)
                element.set("TargetMode", "External")
                continue
            element.set("Target", "/" + self._copy_part(rel.target, copied))
        self.target._xml[rels_name(target_part)] = root

    def _copy_part(self, part: str, copied: dict[str, str]) -> str:
        if part in copied:
            return copied[part]
        name = self.target.free_name(_numbered_pattern(part))
        copied[part] = name
        data = self.source.parts[part]
        if part.startswith("xl/tables/"):
            data = self._renumber_table(data)
        self.target.put(name, data)
        content_type = self.source.content_type(part)
        if content_type:
            self.target.set_content_type(name, content_type)
        self._copy_rels(part, name, copied)
        return name

    def _renumber_table(self, data: bytes) -> bytes:
        """Table ids are unique in a workbook: give the copy the next free one."""
        root = etree.fromstring(data)
        root.set("id", str(next_table_id(self.target)))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _numbered_pattern(part: str) -> str:
    """ "xl/comments/comment1.xml" -> "xl/comments/comment{n}.xml"."""
    folder, name = posixpath.split(part)
    match = _NUMBERED.match(name)
    stem, ext = (match.group(1), match.group(3)) if match else (name, "")
    return posixpath.join(folder, stem.replace("{", "").replace("}", "") + "{n}" + ext)


def next_table_id(package: XlsxPackage) -> int:
    used = [0]
    for name in list(package.parts):
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            try:
                used.append(int(package.read_xml(name).get("id", "0")))
            except (etree.XMLSyntaxError, ValueError):
                continue
    return max(used) + 1


def table_names(package: XlsxPackage) -> set[str]:
    names = set()
    for name in package.parts:
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            root = package.read_xml(name)
            names.add((root.get("name") or "").casefold())
            names.add((root.get("displayName") or "").casefold())
    return names


def sheets_by_table(package: XlsxPackage) -> dict[str, SheetEntry]:
    """casefolded table name -> the sheet holding the table (a table keeps its name when its tab is
    renamed, in Excel and in LibreOffice)."""
    found = {}
    for entry in package.sheets():
        for rel in package.relationships(entry.part):
            if not rel.external and rel_kind(rel.type) == "table" and package.has(rel.target):
                found[(package.read_xml(rel.target).get("name") or "").casefold()] = entry
    return found


def carry_protection(old_root: Any, new_root: Any) -> None:
    """The user's protection of the sheet (Review > Protect Sheet) and its editable ranges stay on."""
    for name in ("sheetProtection", "protectedRanges"):
        old = old_root.find(q(name))
        if old is None:
            continue
        current = new_root.find(q(name))
        if current is not None:
            new_root.remove(current)
        copied = copy.deepcopy(old)
        new_root.append(copied)
        insert_in_order(new_root, copied, SHEET_ORDER)


# -- removing a sheet's own parts -----------------------------------------------------------------
def related_closure(package: XlsxPackage, part: str) -> list[str]:
    """Every internal part reachable from `part`'s relationships (not `part` itself)."""
    found: list[str] = []
    stack = [part]
    while stack:
        for rel in package.relationships(stack.pop()):
            if not rel.external and rel.target not in found and rel.target != part and package.has(rel.target):
                found.append(rel.target)
                stack.append(rel.target)
    return found


def remove_related(package: XlsxPackage, part: str) -> None:
    """Delete the parts only `part` uses (its comments, drawing, charts, tables) and its relationships."""
    closure = related_closure(package, part)
    inside = {part, *closure}
    used_elsewhere = {
        rel.target
        for name in list(package.parts)
        if name not in inside and not name.endswith(".rels")
        for rel in package.relationships(name)
    }
    for name in closure:
        if name not in used_elsewhere:
            package.remove(name)
    package.parts.pop(rels_name(part), None)
    package._xml.pop(rels_name(part), None)


# -- the workbook part ----------------------------------------------------------------------------
def structure_locked(package: XlsxPackage) -> bool:
    """Whether the user protected the workbook's structure (Review > Protect Workbook): no tab may be
    added, renamed, moved or deleted."""
    protection = package.read_xml(package.workbook_part()).find("m:workbookProtection", NS)
    return protection is not None and protection.get("lockStructure") in ("1", "true")


def add_sheet_entry(package: XlsxPackage, title: str, part: str, *, hidden: str = "visible") -> int:
    """Add a <sheet> at the end of the tab order for `part` (`hidden`: its state, visible, hidden or
    veryHidden); returns its 0-based position. SinkError when the workbook's structure is protected."""
    if structure_locked(package):
        raise SinkError(
            f"{package.path}: not refreshed, nothing written: the workbook's structure is protected and tab "
            f"{title!r} would be added (unprotect it in Review > Protect Workbook)"
        )
    workbook = package.workbook_part()
    rel_id = package.add_relationship(workbook, WORKSHEET_TYPE, part)
    package.set_content_type(part, WORKSHEET_CT)
    sheets = package.xml(workbook).find("m:sheets", NS)
    numbers = [int(s.get("sheetId", "0")) for s in sheets.iterfind("m:sheet", NS)]
    element = etree.SubElement(sheets, q("sheet"), name=title, sheetId=str(max(numbers, default=0) + 1))
    element.set(f"{{{REL_NS}}}id", rel_id)
    if hidden != "visible":
        element.set("state", hidden)
    return len(sheets) - 1


def sheet_position(package: XlsxPackage, name: str) -> int:
    sheets = package.read_xml(package.workbook_part()).find("m:sheets", NS)
    for index, sheet in enumerate(sheets.iterfind("m:sheet", NS)):
        if sheet.get("name", "").casefold() == name.casefold():
            return index
    raise SinkError(f"{package.path}: no tab named {name!r}")


def rename_sheet(package: XlsxPackage, old: str, new: str) -> None:
    sheets = package.xml(package.workbook_part()).find("m:sheets", NS)
    for sheet in sheets.iterfind("m:sheet", NS):
        if sheet.get("name") == old:
            sheet.set("name", new)


def sheet_prefix(name: str) -> str:
    """How a formula names a sheet: "Prices!" or "'Green Leaf'!" (quoted unless a plain identifier)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", name):
        return name + "!"
    return "'" + name.replace("'", "''") + "'!"


def retarget_sheet_name(package: XlsxPackage, part: str, position: int, old: str, new: str) -> None:
    """Point sheetsync's own references to a sheet, in the sheet (formulas, hyperlinks), the parts it
    relates to (charts) and its local names (print titles), from name `old` to `new`."""
    wanted = {sheet_prefix(old), "'" + old.replace("'", "''") + "'!"}
    replacement = sheet_prefix(new)

    def fixed(text: str | None) -> str | None:
        if text is None or not any(w in text for w in wanted):
            return text
        for w in wanted:
            text = text.replace(w, replacement)
        return text

    for name in [part, *related_closure(package, part)]:
        if not name.endswith(".xml"):
            continue
        if not any(
            fixed(e.text) != e.text or fixed(e.get("location")) != e.get("location")
            for e in package.read_xml(name).iter()
        ):
            continue
        for element in package.xml(name).iter():
            element.text = fixed(element.text)
            if element.get("location") is not None:
                element.set("location", fixed(element.get("location")) or "")
    names = package.xml(package.workbook_part()).find("m:definedNames", NS)
    for defined in names if names is not None else []:
        if defined.get("localSheetId") == str(position):
            defined.text = fixed(defined.text)


def defined_names(package: XlsxPackage) -> list[str]:
    """The workbook's own defined names (not the built-in _xlnm.* print and filter names)."""
    root = package.read_xml(package.workbook_part())
    names = [n.get("name", "") for n in root.iterfind("m:definedNames/m:definedName", NS)]
    return [name for name in names if name and not name.startswith("_xlnm.")]


def drop_local_names(package: XlsxPackage, position: int, *, only_builtin: bool = True) -> None:
    """Remove the names local to the sheet at `position` (by default only _xlnm.* print and filter names)."""
    root = package.xml(package.workbook_part())
    names = root.find("m:definedNames", NS)
    if names is None:
        return
    for name in list(names):
        if name.get("localSheetId") == str(position) and (
            not only_builtin or name.get("name", "").startswith("_xlnm.")
        ):
            names.remove(name)


def copy_local_names(target: XlsxPackage, source: XlsxPackage, source_position: int, target_position: int) -> None:
    """Copy the source sheet's local names (print titles, filter range) to the target sheet."""
    source_names = source.read_xml(source.workbook_part()).find("m:definedNames", NS)
    if source_names is None:
        return
    root = target.xml(target.workbook_part())
    names = root.find("m:definedNames", NS)
    if names is None:
        names = etree.SubElement(root, q("definedNames"))
        sheets = root.find("m:sheets", NS)
        sheets.addnext(names)
    for name in source_names:
        if name.get("localSheetId") == str(source_position):
            copied = copy.deepcopy(name)
            copied.set("localSheetId", str(target_position))
            names.append(copied)


# -- what a refresh could not keep ----------------------------------------------------------------
def pictures_in(package: XlsxPackage, entry: SheetEntry) -> int:
    """How many pictures the drawings of one sheet hold."""
    count = 0
    for rel in package.relationships(entry.part):
        if not rel.external and rel_kind(rel.type) == "drawing":
            count += len(package.read_xml(rel.target).findall(f".//{{{DRAWING_NS}}}pic"))
    return count


def replace_blockers(
    package: XlsxPackage, entry: SheetEntry, own_charts: int, own_tables: set[str], own_pictures: int = 0
) -> list[str]:
    """What the user added on a managed sheet that replacing it would lose: pictures, shapes or extra
    charts in its drawing, pivot tables, other tables, slicers, embedded objects, controls."""
    found = []
    for rel in package.relationships(entry.part):
        kind = rel_kind(rel.type)
        if rel.external or kind in ("comments", "vmlDrawing", "hyperlink", "printerSettings"):
            continue
        if kind == "drawing":
            found += _drawing_blockers(package, rel.target, own_charts, own_pictures, entry.name)
        elif kind == "table":
            root = package.read_xml(rel.target)
            if (root.get("name") or "").casefold() not in own_tables:
                found.append(f"table {root.get('displayName') or root.get('name')!r} on tab {entry.name!r}")
        else:
            found.append(f"{_label(kind)} on tab {entry.name!r}")
    data = package.parts.get(entry.part, b"")
    if b"x14:sparklineGroup" in data:
        found.append(f"sparklines on tab {entry.name!r}")
    return found


def _label(kind: str) -> str:
    return {
        "pivotTable": "a pivot table",
        "oleObject": "an embedded object",
        "ctrlProp": "a form control",
        "slicer": "a slicer",
        "timeline": "a timeline",
        "threadedComment": "threaded comments",
    }.get(kind, f"a {kind} part")


def _drawing_blockers(package: XlsxPackage, part: str, own_charts: int, own_pictures: int, sheet: str) -> list[str]:
    root = package.read_xml(part)
    found = []
    pictures = len(root.findall(f".//{{{DRAWING_NS}}}pic"))
    shapes = len(root.findall(f".//{{{DRAWING_NS}}}sp")) + len(root.findall(f".//{{{DRAWING_NS}}}cxnSp"))
    charts = len(root.findall(f".//{{{CHART_NS}}}chart"))
    if pictures > own_pictures:
        found.append(f"{pictures - own_pictures} picture(s) on tab {sheet!r}")
    if shapes:
        found.append(f"{shapes} shape(s) on tab {sheet!r}")
    if charts > own_charts:
        found.append(f"{charts - own_charts} chart(s) added on tab {sheet!r}")
    return found


def references_to(package: XlsxPackage, sheet: str, skip: set[str]) -> list[str]:
    """Parts other than `skip` that name `sheet` in a formula, range or name ("'My tab'!A1", "Tab!A1") or
    as a pivot table's source (worksheetSource sheet="My tab")."""
    quoted = "'" + sheet.replace("'", "''") + "'!"
    patterns: list[bytes | re.Pattern[bytes]] = [*_xml_forms(quoted)]
    patterns += [b'sheet="' + form + b'"' for form in _xml_forms(sheet)]  # a pivot cache's source
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet):
        patterns.append(re.compile(rb"(?<![A-Za-z0-9_.'])" + re.escape(sheet.encode()) + rb"!"))
    found = []
    workbook = package.workbook_part()
    for name, data in package.parts.items():
        if name in skip or not name.endswith((".xml", ".vml")) or name.startswith("docProps/"):
            continue
        if name == workbook:
            data = _workbook_names_text(package, sheet)
        if any((p.search(data) if isinstance(p, re.Pattern) else p in data) for p in patterns):
            found.append(name)
    return found


def _xml_forms(text: str) -> set[bytes]:
    """`text` as it may appear in a part's bytes: as is, or escaped for XML text or attributes."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    forms = {text, escaped, escaped.replace("'", "&apos;"), escaped.replace('"', "&quot;")}
    forms.add(escaped.replace("'", "&apos;").replace('"', "&quot;"))
    return {form.encode() for form in forms}


def _workbook_names_text(package: XlsxPackage, sheet: str) -> bytes:
    """The workbook's defined names that are not local to `sheet` itself."""
    root = package.read_xml(package.workbook_part())
    position = sheet_position(package, sheet)
    texts = [
        (name.text or "")
        for name in root.iterfind("m:definedNames/m:definedName", NS)
        if name.get("localSheetId") != str(position)
    ]
    return "\n".join(texts).encode()


__all__ = [
    "MAIN",
    "SheetCopier",
    "add_sheet_entry",
    "carry_protection",
    "copy_local_names",
    "defined_names",
    "drop_local_names",
    "next_table_id",
    "references_to",
    "related_closure",
    "remove_related",
    "rename_sheet",
    "replace_blockers",
    "retarget_sheet_name",
    "sheet_position",
    "sheets_by_table",
    "structure_locked",
    "table_names",
]
