"""The fast path for the data rows of a streamed (write-only) tab: each row serialized as XML text.

openpyxl's write-only mode writes a cell through lxml's incremental writer, one nested element at a
time (``<c>``, ``<v>``/``<is><t>``), which is most of the time a big tab takes to write. Here a data
row is first filled exactly as before (the same ``xlsx_cells`` fillers on the same styled prototype
cells: types, money rounding, text cleaning, never a formula), then turned into the XML openpyxl
would have written for it, with openpyxl's own number and date conversions (``safe_string``,
``to_excel``). A row holding anything else (a link, a formula, a value of another type, a row with
its own height) is handed to openpyxl's cell writer as before, so both kinds of rows can follow
each other in one sheet.

``install(ws)`` gives a write-only worksheet the writer that accepts ``RowXml`` rows; call it after
the sheet's set-up (widths, panes) and before its first row, as openpyxl's own writer is made then.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.xml import LXML
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

from sheetsync.sinks.xlsx_cells import Filler, col

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})  # as lxml writes text
_PLAIN_TYPES = frozenset({str, int, Decimal, float, bool, date, datetime})


class RowXml(bytes):
    """One data row already serialized (``<row r="8">...</row>``), written to the sheet as it is."""


class StreamWriter(WorksheetWriter):
    """openpyxl's worksheet writer over a file it can also write ``RowXml`` rows to directly."""

    _file: BinaryIO

    def get_stream(self) -> Iterator[Any]:
        # openpyxl's WorksheetWriter.get_stream, over a file object kept for the raw rows
        with (
            open(self.out, "wb") as self._file,
            xmlfile(self._file) as xf,
            xf.element("worksheet", xmlns=SHEET_MAIN_NS),
        ):
            try:
                while True:
                    el = yield
                    if el is True:
                        yield xf
                    elif el is not None:
                        xf.write(el)
            except GeneratorExit:
                pass

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        if type(row) is RowXml:
            xf.flush()  # what lxml holds goes first
            self._file.write(row)
            return
        super().write_row(xf, row, row_idx)


def install(ws: Any) -> None:
    """Give write-only worksheet `ws` a StreamWriter (before anything is appended to it). Only over
    lxml's writer, which can hand over its output (``flush``); openpyxl without lxml keeps its own."""
    if ws._writer is None and LXML:
        ws._writer = StreamWriter(ws)
        ws._writer.write_top()


def installed(ws: Any) -> bool:
    """Whether `ws` streams through a StreamWriter (RowXml rows are accepted)."""
    return isinstance(getattr(ws, "_writer", None), StreamWriter)


class RowSerializer:
    """Fills a row's prototype cells with the column fillers and serializes them; None when a value
    needs openpyxl's cell writer (the caller then hands the row to it)."""

    def __init__(self, ws: Any, protos: Sequence[Cell], fillers: Sequence[Filler]) -> None:
        self.protos, self.fillers = list(protos), list(fillers)
        self.letters = [col(proto.column) for proto in protos]
        self.styles = [f' s="{proto.style_id}"' if proto.has_style else "" for proto in protos]
        self.epoch = ws.parent.epoch
        self.custom_heights = ws.row_dimensions
        self.iso_dates = bool(getattr(ws.parent, "iso_dates", False))

    def __call__(self, values: Sequence[Any], row_idx: int) -> RowXml | None:
        if self.iso_dates or row_idx in self.custom_heights:
            return None
        parts = [f'<row r="{row_idx}">']
        for fill, proto, letter, style, value in zip(
            self.fillers, self.protos, self.letters, self.styles, values, strict=False
        ):
            if value is None:
                continue
            if type(value) not in _PLAIN_TYPES:
                return None
            fill(proto, value)
            cell = self._cell(proto.data_type, proto._value, f"{letter}{row_idx}", style)
            if cell is None:
                return None
            parts.append(cell)
        parts.append("</row>")
        return RowXml("".join(parts).encode())

    def _cell(self, kind: str, value: Any, ref: str, style: str) -> str | None:
        if kind == "n":
            return f'<c r="{ref}"{style} t="n"><v>{safe_string(value)}</v></c>'
        if kind == "s" and type(value) is str:
            if not value:
                return f'<c r="{ref}"{style} t="inlineStr"/>'
            space = ' xml:space="preserve"' if value != value.strip() else ""
            return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{value.translate(_ESCAPES)}</t></is></c>'
        if kind == "d" and type(value) in (date, datetime) and getattr(value, "tzinfo", None) is None:
            return f'<c r="{ref}"{style} t="n"><v>{safe_string(to_excel(value, self.epoch))}</v></c>'
        if kind == "b":
            return f'<c r="{ref}"{style} t="b"><v>{safe_string(value)}</v></c>'
        return None
