"""The XML plumbing of an xlsx package: namespaces, parsing that keeps prefixes and unknown extensions
(lxml), serializing, and putting a new element where the schema's sequence wants it."""

from __future__ import annotations

from typing import Any

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
NS = {"m": MAIN, "r": REL_NS}

WORKBOOK_ORDER = [
    "fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets", "functionGroups",
    "externalReferences", "definedNames", "calcPr", "oleSize", "customWorkbookViews", "pivotCaches",
    "smartTagPr", "smartTagTypes", "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
]  # fmt: skip
SHEET_ORDER = [
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
    "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks",
    "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
    "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "picture",
    "oleObjects", "controls", "webPublishItems", "tableParts", "extLst",
]  # fmt: skip


def q(tag: str) -> str:
    """A SpreadsheetML tag in Clark notation: q("c") -> "{...spreadsheetml/2006/main}c"."""
    return f"{{{MAIN}}}{tag}"


def parse_xml(data: bytes) -> Any:
    return etree.fromstring(data, etree.XMLParser(remove_blank_text=False, resolve_entities=False, huge_tree=True))


def to_bytes(root: Any) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def insert_in_order(parent: Any, element: Any, order: list[str]) -> None:
    """Put `element` (new, or already a child) where the schema's sequence `order` wants it among
    `parent`'s children (WORKBOOK_ORDER for the workbook part, SHEET_ORDER for a worksheet)."""
    rank = order.index(etree.QName(element).localname)
    if element.getparent() is parent:
        parent.remove(element)
    for index, child in enumerate(parent):
        name = etree.QName(child).localname if isinstance(child.tag, str) else ""
        if name in order and order.index(name) > rank:
            parent.insert(index, element)
            return
    parent.append(element)
