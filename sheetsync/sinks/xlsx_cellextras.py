"""What hangs on a user's cell besides its value and style: its note (comment), its hyperlink and the merged
range it starts. A refresh moves the user's cells to new rows and columns (xlsx_usercols.py); these follow.

`collect` reads them from the old sheet before it is replaced; `attach` adds them to the refreshed sheet
once its own parts (sheetsync's comments and their VML drawing) are in the package, creating those parts
when the refreshed sheet has none. Excel keeps notes in two parts: the text in comments*.xml and the box
in a VML drawing (legacyDrawing); both are written.
"""

from __future__ import annotations

import contextlib
import copy
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from sheetsync.errors import SinkError
from sheetsync.sinks.xlsx_package import XlsxPackage
from sheetsync.sinks.xlsx_worksheet import column_letters, split_ref
from sheetsync.sinks.xlsx_xml import MAIN, REL_NS, SHEET_ORDER, insert_in_order, q

Moves = dict[tuple[int, int], tuple[int, int]]  # (row, column) before -> after, 1-based

COMMENTS_TYPE = REL_NS + "/comments"
VML_TYPE = REL_NS + "/vmlDrawing"
HYPERLINK_TYPE = REL_NS + "/hyperlink"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
V_NS = "urn:schemas-microsoft-com:vml"
O_NS = "urn:schemas-microsoft-com:office:office"
X_NS = "urn:schemas-microsoft-com:office:excel"
_EMPTY_VML = (
    f'<xml xmlns:v="{V_NS}" xmlns:o="{O_NS}" xmlns:x="{X_NS}"><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
    'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path gradientshapeok="t" '
    'o:connecttype="rect"/></v:shapetype></xml>'
)
_NOTE_SHAPE = (
    f'<v:shape xmlns:v="{V_NS}" xmlns:o="{O_NS}" xmlns:x="{X_NS}" type="#_x0000_t202" fillcolor="#ffffe1" '
    'o:insetmode="auto" style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:108pt;height:59.25pt;'
    'z-index:1;visibility:hidden"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
    '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
    '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill>'
    "<x:Row>0</x:Row><x:Column>0</x:Column></x:ClientData></v:shape>"
)


@dataclass
class Note:
    ref: str  # where it goes
    text: Any  # the <text> element
    author: str
    shape: Any | None  # the VML box, when the old sheet had a readable one


@dataclass
class Extras:
    notes: list[Note] = field(default_factory=list)
    links: list[tuple[Any, str | None]] = field(default_factory=list)  # <hyperlink> moved, its external URL
    merges: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # what could not follow, for a warning


def collect(package: XlsxPackage, old_part: str, old_root: Any, moves: Moves) -> Extras:
    """The notes, hyperlinks and merged ranges of the moved cells of the old sheet, at their new places."""
    extras = Extras()
    rels = {rel.rel_id: rel for rel in package.relationships(old_part)}
    shapes = _note_shapes(package, [r.target for r in rels.values() if r.type == VML_TYPE])
    for rel in rels.values():
        if rel.type == COMMENTS_TYPE and package.has(rel.target):
            _collect_notes(package.read_xml(rel.target), moves, shapes, extras)
    for link in old_root.iterfind(f"{q('hyperlinks')}/{q('hyperlink')}"):
        moved = _moved_ref(link.get("ref", ""), moves)
        if moved:
            copied = copy.deepcopy(link)
            copied.set("ref", moved)
            link_rel = rels.get(link.get(f"{{{REL_NS}}}id", ""))
            url = link_rel.target if link_rel is not None and link_rel.external else None
            if url is None:  # an Id of the old sheet's relationships would point nowhere in the new one
                copied.attrib.pop(f"{{{REL_NS}}}id", None)
            extras.links.append((copied, url))
    for merge in old_root.iterfind(f"{q('mergeCells')}/{q('mergeCell')}"):
        _collect_merge(merge.get("ref", ""), moves, extras)
    return extras


def texts_by_cell(package: XlsxPackage, old_part: str, old_root: Any) -> dict[tuple[int, int], tuple[str, str]]:
    """(row, column) -> (note text, link: its URL or "#Sheet!A1") of the old sheet's cells, for the cells
    that cannot follow a row (their key vanished) and are listed as text instead."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    rels = {rel.rel_id: rel for rel in package.relationships(old_part)}
    for rel in rels.values():
        if rel.type == COMMENTS_TYPE and package.has(rel.target):
            for comment in package.read_xml(rel.target).iterfind(f"{q('commentList')}/{q('comment')}"):
                with contextlib.suppress(SinkError):
                    found[split_ref(comment.get("ref", ""))] = ("".join(comment.itertext()).strip(), "")
    for link in old_root.iterfind(f"{q('hyperlinks')}/{q('hyperlink')}"):
        link_rel = rels.get(link.get(f"{{{REL_NS}}}id", ""))
        target = link_rel.target if link_rel is not None else "#" + link.get("location", "")
        with contextlib.suppress(SinkError):
            cell = split_ref(link.get("ref", ""))
            found[cell] = (found.get(cell, ("", ""))[0], target)
    return found


def _collect_notes(comments: Any, moves: Moves, shapes: dict[tuple[int, int], Any], extras: Extras) -> None:
    authors = [a.text or "" for a in comments.iterfind(f"{q('authors')}/{q('author')}")]
    for comment in comments.iterfind(f"{q('commentList')}/{q('comment')}"):
        try:
            cell = split_ref(comment.get("ref", ""))
        except SinkError:
            continue
        if cell not in moves:
            continue
        row, column = moves[cell]
        index = int(comment.get("authorId", "0"))
        author = authors[index] if index < len(authors) else ""
        shape = shapes.get(cell)
        if shape is not None:
            shape = _moved_shape(shape, cell, (row, column))
        text = comment.find(q("text"))
        extras.notes.append(Note(f"{column_letters(column)}{row}", copy.deepcopy(text), author, shape))


def _collect_merge(ref: str, moves: Moves, extras: Extras) -> None:
    first, _, last = ref.partition(":")
    try:
        corners = [split_ref(first), split_ref(last or first)]
    except SinkError:
        return
    if not any(c in moves for c in corners):
        return
    (r0, c0), (r1, c1) = corners
    start, end = moves.get((r0, c0)), moves.get((r1, c1))
    if start and end and (end[0] - start[0], end[1] - start[1]) == (r1 - r0, c1 - c0):
        extras.merges.append(f"{column_letters(start[1])}{start[0]}:{column_letters(end[1])}{end[0]}")
    else:
        extras.dropped.append(f"merged cells {ref}")


def _moved_ref(ref: str, moves: Moves) -> str | None:
    if ":" in ref:
        return None
    try:
        moved = moves.get(split_ref(ref))
    except SinkError:
        return None
    return f"{column_letters(moved[1])}{moved[0]}" if moved else None


def _note_shapes(package: XlsxPackage, parts: list[str]) -> dict[tuple[int, int], Any]:
    """(row, column) -> the VML box of its note; VML Excel wrote that is not well-formed XML is skipped
    (the note then gets a default box)."""
    shapes = {}
    for part in parts:
        try:
            root = etree.fromstring(package.parts[part], etree.XMLParser(recover=False, resolve_entities=False))
        except (etree.XMLSyntaxError, KeyError):
            continue
        for shape in root.iter(f"{{{V_NS}}}shape"):
            data = shape.find(f"{{{X_NS}}}ClientData")
            row, column = (data.find(f"{{{X_NS}}}{n}") if data is not None else None for n in ("Row", "Column"))
            if row is not None and column is not None and (row.text or "").isdigit() and (column.text or "").isdigit():
                shapes[(int(row.text) + 1, int(column.text) + 1)] = shape
    return shapes


def _moved_shape(shape: Any, old: tuple[int, int], new: tuple[int, int]) -> Any:
    moved = copy.deepcopy(shape)
    data = moved.find(f"{{{X_NS}}}ClientData")
    data.find(f"{{{X_NS}}}Row").text = str(new[0] - 1)
    data.find(f"{{{X_NS}}}Column").text = str(new[1] - 1)
    anchor = data.find(f"{{{X_NS}}}Anchor")
    if anchor is not None and anchor.text:
        numbers = [int(n) for n in re.findall(r"-?\d+", anchor.text)]
        if len(numbers) == 8:
            dr, dc = new[0] - old[0], new[1] - old[1]
            for i, delta in ((0, dc), (2, dr), (4, dc), (6, dr)):
                numbers[i] = max(0, numbers[i] + delta)
            anchor.text = ", ".join(str(n) for n in numbers)
    return moved


# -- onto the refreshed sheet ---------------------------------------------------------------------
def attach(package: XlsxPackage, part: str, extras: Extras) -> None:
    """Add the collected notes, hyperlinks and merges to the refreshed sheet `part`."""
    root = package.xml(part)
    if extras.links:
        holder = _child(root, "hyperlinks")
        for link, url in extras.links:
            if url is not None:
                link.set(f"{{{REL_NS}}}id", package.add_relationship(part, HYPERLINK_TYPE, url, external=True))
            holder.append(link)
    if extras.merges:
        holder = _child(root, "mergeCells")
        for ref in extras.merges:
            etree.SubElement(holder, q("mergeCell"), ref=ref)
        holder.set("count", str(len(holder)))
    if extras.notes:
        _attach_notes(package, part, root, extras.notes)


def _child(root: Any, name: str) -> Any:
    found = root.find(q(name))
    if found is None:
        found = etree.SubElement(root, q(name))
        insert_in_order(root, found, SHEET_ORDER)
    return found


def _attach_notes(package: XlsxPackage, part: str, root: Any, notes: list[Note]) -> None:
    rels = package.relationships(part)
    comments_part = next((r.target for r in rels if r.type == COMMENTS_TYPE), None) or _new_comments(package, part)
    vml_part = next((r.target for r in rels if r.type == VML_TYPE), None) or _new_vml(package, part, root)
    comments = package.xml(comments_part)
    authors = _child(comments, "authors")
    names = [a.text or "" for a in authors]
    listing = _child(comments, "commentList")
    vml = etree.fromstring(package.parts.get(vml_part) or _EMPTY_VML.encode())
    number = max([int(n) for n in re.findall(rb"_x0000_s(\d+)", package.parts.get(vml_part, b""))] + [1024])
    for note in notes:
        if note.author not in names:
            etree.SubElement(authors, q("author")).text = note.author
            names.append(note.author)
        comment = etree.SubElement(listing, q("comment"), ref=note.ref, authorId=str(names.index(note.author)))
        comment.append(note.text if note.text is not None else etree.Element(q("text")))
        number += 1
        vml.append(_shape_for(note, f"_x0000_s{number}"))
    package.put(vml_part, etree.tostring(vml))


def _shape_for(note: Note, shape_id: str) -> Any:
    shape = note.shape if note.shape is not None else etree.fromstring(_NOTE_SHAPE)
    shape.set("id", shape_id)
    shape.attrib.pop(f"{{{O_NS}}}spid", None)
    if note.shape is None:
        row, column = split_ref(note.ref)
        data = shape.find(f"{{{X_NS}}}ClientData")
        data.find(f"{{{X_NS}}}Row").text = str(row - 1)
        data.find(f"{{{X_NS}}}Column").text = str(column - 1)
    return shape


def _new_comments(package: XlsxPackage, sheet_part: str) -> str:
    name = package.free_name("xl/comments/comment{n}.xml")
    root = etree.Element(q("comments"), nsmap={None: MAIN})
    etree.SubElement(root, q("authors"))
    etree.SubElement(root, q("commentList"))
    package.put_xml(name, root)
    package.set_content_type(name, COMMENTS_CT)
    package.add_relationship(sheet_part, COMMENTS_TYPE, name)
    return name


def _new_vml(package: XlsxPackage, sheet_part: str, root: Any) -> str:
    name = package.free_name("xl/drawings/commentsDrawing{n}.vml")
    package.put(name, _EMPTY_VML.encode())
    package.set_content_type(name, VML_CT)
    rel_id = package.add_relationship(sheet_part, VML_TYPE, name)
    legacy = _child(root, "legacyDrawing")
    legacy.set(f"{{{REL_NS}}}id", rel_id)
    return name
