"""styles.xml of an existing workbook, extended without moving anything: cell formats (xf), number
formats, fonts, fills and borders are appended, and an identical existing entry is reused, so every
style index already used by the workbook's cells keeps its meaning."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FIRST_CUSTOM_FORMAT = 164
STYLE_ORDER = [
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
    "tableStyles", "colors", "extLst",
]  # fmt: skip
XF_PARTS = (("fontId", "fonts", "font"), ("fillId", "fills", "fill"), ("borderId", "borders", "border"))
FONT_ORDER = [
    "b", "i", "strike", "condense", "extend", "outline", "shadow", "u", "vertAlign", "sz", "color", "name",
    "family", "charset", "scheme",
]  # fmt: skip


def q(tag: str) -> str:
    return f"{{{MAIN}}}{tag}"


@dataclass(frozen=True)
class CellStyle:
    """What to change on a cell's style; None leaves that aspect as it is.

    number_format: an Excel format code ("yyyy-mm-dd", '"$"#,##0.00'); bold: True/False;
    font_color and fill: "#RRGGBB"."""

    number_format: str | None = None
    bold: bool | None = None
    font_color: str | None = None
    fill: str | None = None

    def with_format(self, code: str) -> CellStyle:
        return replace(self, number_format=code)


class StyleSheet:
    """One workbook's styles part, parsed."""

    def __init__(self, part: str, root: Any) -> None:
        self.part = part
        self.root = root
        self.changed = False
        self._builtin = {code: number for number, code in BUILTIN_FORMATS.items()}

    # collections, created empty when missing
    def collection(self, name: str) -> Any:
        node = self.root.find(q(name))
        if node is None:
            node = make(name, count="0")
            rank = STYLE_ORDER.index(name)
            for index, child in enumerate(self.root):
                local = etree.QName(child).localname if isinstance(child.tag, str) else ""
                if local in STYLE_ORDER and STYLE_ORDER.index(local) > rank:
                    self.root.insert(index, node)
                    break
            else:
                self.root.append(node)
        return node

    def _items(self, name: str, item: str) -> list[Any]:
        return list(self.collection(name).iterfind(q(item)))

    def _append(self, name: str, item: str, element: Any) -> int:
        """Index of an identical entry, or of `element` appended."""
        wanted = _canonical(element)
        items = self._items(name, item)
        for index, existing in enumerate(items):
            if _canonical(existing) == wanted:
                return index
        node = self.collection(name)
        node.append(element)
        node.set("count", str(len(items) + 1))
        self.changed = True
        return len(items)

    # number formats
    def format_code(self, number: int) -> str:
        if number in BUILTIN_FORMATS:
            return BUILTIN_FORMATS[number]
        for fmt in self._items("numFmts", "numFmt"):
            if int(fmt.get("numFmtId")) == number:
                return fmt.get("formatCode", "General")
        return "General"

    def format_id(self, code: str) -> int:
        if code in self._builtin:
            return self._builtin[code]
        formats = self._items("numFmts", "numFmt")
        for fmt in formats:
            if fmt.get("formatCode") == code:
                return int(fmt.get("numFmtId"))
        number = max([FIRST_CUSTOM_FORMAT - 1, *(int(f.get("numFmtId")) for f in formats)]) + 1
        node = self.collection("numFmts")
        etree.SubElement(node, q("numFmt"), numFmtId=str(number), formatCode=code)
        node.set("count", str(len(formats) + 1))
        self.changed = True
        return number

    def xf(self, index: int) -> Any:
        xfs = self._items("cellXfs", "xf")
        return xfs[index] if index < len(xfs) else (xfs[0] if xfs else make("xf"))

    def is_date_style(self, index: int) -> bool:
        return bool(is_date_format(self.format_code(int(self.xf(index).get("numFmtId", "0")))))

    # merging a CellStyle onto an existing cell format
    def merged(self, base: int, style: CellStyle) -> int:
        """The cellXfs index of `base` with `style` applied (appended when new)."""
        xf = etree.fromstring(etree.tostring(self.xf(base)))
        if style.number_format is not None:
            xf.set("numFmtId", str(self.format_id(style.number_format)))
            xf.set("applyNumberFormat", "1")
        if style.bold is not None or style.font_color is not None:
            xf.set("fontId", str(self._font(int(xf.get("fontId", "0")), style)))
            xf.set("applyFont", "1")
        if style.fill is not None:
            xf.set("fillId", str(self._fill(style.fill)))
            xf.set("applyFill", "1")
        return self._append("cellXfs", "xf", xf)

    def _font(self, base: int, style: CellStyle) -> int:
        fonts = self._items("fonts", "font")
        font = etree.fromstring(etree.tostring(fonts[base])) if base < len(fonts) else make("font")
        if style.bold is not None:
            for node in font.findall(q("b")):
                font.remove(node)
            if style.bold:
                _insert_font_child(font, make("b"))
        if style.font_color is not None:
            for node in font.findall(q("color")):
                font.remove(node)
            _insert_font_child(font, make("color", rgb="FF" + style.font_color.lstrip("#").upper()))
        return self._append("fonts", "font", font)

    def _fill(self, colour: str) -> int:
        fill = make("fill")
        pattern = etree.SubElement(fill, q("patternFill"), patternType="solid")
        etree.SubElement(pattern, q("fgColor"), rgb="FF" + colour.lstrip("#").upper())
        etree.SubElement(pattern, q("bgColor"), indexed="64")
        return self._append("fills", "fill", fill)

    # importing from another workbook's styles (a sheet rendered elsewhere)
    def import_xf(self, other: StyleSheet, index: int) -> int:
        source = other.xf(index)
        xf = etree.fromstring(etree.tostring(source))
        number = int(source.get("numFmtId", "0"))
        if number >= FIRST_CUSTOM_FORMAT or number not in BUILTIN_FORMATS:
            xf.set("numFmtId", str(self.format_id(other.format_code(number))))
        for attribute, name, item in (
            ("fontId", "fonts", "font"),
            ("fillId", "fills", "fill"),
            ("borderId", "borders", "border"),
        ):
            items = other._items(name, item)
            position = int(source.get(attribute, "0"))
            if position < len(items):
                xf.set(attribute, str(self._append(name, item, etree.fromstring(etree.tostring(items[position])))))
        xf.set("xfId", "0")
        return self._append("cellXfs", "xf", xf)

    def import_dxf(self, other: StyleSheet, index: int) -> int:
        items = other._items("dxfs", "dxf")
        return self._append("dxfs", "dxf", etree.fromstring(etree.tostring(items[index])))


def _insert_font_child(font: Any, child: Any) -> None:
    rank = FONT_ORDER.index(etree.QName(child).localname)
    for index, existing in enumerate(font):
        local = etree.QName(existing).localname if isinstance(existing.tag, str) else ""
        if local in FONT_ORDER and FONT_ORDER.index(local) > rank:
            font.insert(index, child)
            return
    font.append(child)


def _canonical(element: Any) -> tuple:
    """An element's tag, attributes, text and children, whatever namespace prefixes it was written with."""
    children = tuple(_canonical(child) for child in element if isinstance(child.tag, str))
    return (element.tag, tuple(sorted(element.attrib.items())), (element.text or "").strip(), children)


def make(tag: str, **attributes: str) -> Any:
    """A new element in the main namespace, written without a prefix."""
    return etree.Element(q(tag), attributes, nsmap={None: MAIN})
