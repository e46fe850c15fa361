"""Render model.Tab objects into an xlsx workbook (openpyxl), atomically.

Plain tabs are streamed in write-only mode: everything that openpyxl writes before the rows
(column widths, freeze panes, sheet properties) is set up first, then rows are appended. Data rows go
through a per-worksheet replacement of openpyxl's `_values_to_row` that fills one reused,
pre-styled cell per column; on a plain tab that row is then serialized as XML text by
`xlsx_stream.py` (the same XML openpyxl writes, about twice as fast), anything rare (a link) by
openpyxl's cell writer. A workbook with a templated tab is built in normal mode from the template instead.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from sheetsync.errors import RenderError, SheetsyncError
from sheetsync.model import (
    GROWING_LIST_ROWS,
    SUBTOTAL_FUNCTIONS,
    Format,
    Link,
    Tab,
    Total,
    Workbook,
    number_format,
)
from sheetsync.sinks import xlsx_cells as cells
from sheetsync.sinks import xlsx_stream
from sheetsync.sinks.links import safe_link
from sheetsync.sinks.naming import block_name
from sheetsync.sinks.xlsx_cells import col, quote_sheet


@dataclass(frozen=True)
class Placement:
    """Where a tab's blocks go on its sheet (1-based). Plain tabs follow model.py's layout; a
    template moves the header row, first column, title and info to its defined names."""

    header_row: int
    first_col: int = 1
    title: tuple[int, int] | None = (1, 1)
    info: tuple[int, int] | None = (2, 1)

    @classmethod
    def of(cls, tab: Tab) -> Placement:
        return cls(header_row=tab.header_row)


@dataclass(frozen=True)
class Frame:
    """The data grid of one rendered tab: rows and columns, for ranges and formulas."""

    tab: Tab
    title: str  # sheet title
    placement: Placement
    n_rows: int
    n_cols: int
    has_totals: bool

    @property
    def header_row(self) -> int:
        return self.placement.header_row

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_data_row(self) -> int:
        """Last data row; the header row when there are no data rows."""
        return self.header_row + self.n_rows

    @property
    def totals_row(self) -> int | None:
        return self.last_data_row + 1 if self.has_totals else None

    def column(self, index: int) -> str:
        return col(self.placement.first_col + index)

    def data_range(self, index: int, *, absolute: bool = False) -> str:
        letter, first, last = self.column(index), self.first_data_row, max(self.last_data_row, self.first_data_row)
        if absolute:
            return f"${letter}${first}:${letter}${last}"
        return f"{letter}{first}:{letter}{last}"


class _Prepared(list):
    """A row of ready cells (title, header, totals), as opposed to a row of model values."""


# -- the public entry point -----------------------------------------------------------------------


def write_workbook(workbook: Workbook, path: Path, *, templates_dir: Path | None = None) -> None:
    """Write every tab of `workbook` to `path`. Atomic: any failure leaves an existing file as it was."""
    path = Path(path)
    titles = cells.sheet_titles([tab.name for tab in workbook.tabs])
    if any(tab.template and tab.statement is None for tab in workbook.tabs):
        from sheetsync.sinks.xlsx_template import build_templated

        book = build_templated(workbook, titles, templates_dir)
    else:
        book = OpenpyxlWorkbook(write_only=True)
        try:
            render_write_only(book, workbook, titles, templates_dir)
        except BaseException:
            discard_streams(book)
            raise
    from sheetsync.sinks.xlsx_document import add_about

    add_about(book, workbook, titles)
    book.calculation.fullCalcOnLoad = True
    save_atomically(book, path)


def render_write_only(book: Any, workbook: Workbook, titles: list[str], templates_dir: Path | None = None) -> None:
    from sheetsync.sinks import xlsx_document as document  # statements: customer-facing pages

    pairs = list(zip(workbook.tabs, titles, strict=True))
    frames = {
        tab.name: frame_of(tab, title, document.statement_placement(tab) if tab.statement else Placement.of(tab))
        for tab, title in pairs
    }
    for tab, title in pairs:
        ws, frame = new_sheet(book, title), frames[tab.name]
        if tab.statement is not None:
            look = document.look_of(tab.template, templates_dir, tab.statement.company)
            document.StatementRenderer(ws, tab, frame, frames, look).render()
        else:
            TabRenderer(ws, tab, frame, frames, write_only=True).render()
    if not workbook.tabs:
        book.create_sheet("Sheet")


def new_sheet(book: Any, title: str) -> Any:
    """A write-only sheet named `title` (already valid and unique: cells.sheet_titles). openpyxl's
    create_sheet checks a title against every existing one, which makes 1,000 tabs cost 500,000
    comparisons; this skips that check and nothing else."""
    ws = WriteOnlyWorksheet(parent=None, title=None)  # no parent: the title setter checks nothing
    ws._parent = book
    ws._WorkbookChild__title = title
    book._add_sheet(ws)
    return ws


def discard_streams(book: Any) -> None:
    """Close the row streams of a write-only workbook that will not be saved, and delete their
    temporary files."""
    for ws in book.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        for stream in (getattr(ws, "_rows", None), getattr(writer, "xf", None)):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
        with contextlib.suppress(OSError):
            os.remove(writer.out)


def frame_of(tab: Tab, title: str, placement: Placement) -> Frame:
    return Frame(tab, title, placement, len(tab.rows), len(tab.columns), tab.has_totals)


def save_atomically(book: Any, path: Path, *, error: type[SheetsyncError] = RenderError) -> None:
    """Save to a temporary file beside `path`, then move it over `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        book.save(temp)
        os.chmod(temp, _file_mode(path))
        os.replace(temp, path)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if getattr(book, "write_only", False):
            discard_streams(book)
        if isinstance(exc, OSError):
            raise error(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual ones (mkstemp makes 0600)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# -- one tab --------------------------------------------------------------------------------------


class TabRenderer:
    """Renders one tab into a worksheet, in write-only mode (rows streamed in order) or normal mode
    (cells placed, e.g. into a template)."""

    def __init__(
        self,
        ws: Any,
        tab: Tab,
        frame: Frame,
        frames: dict[str, Frame],
        *,
        write_only: bool,
        header_style: Cell | None = None,
        data_style: Cell | None = None,
        keep_widths: set[str] | None = None,
        templated: bool = False,
    ) -> None:
        self.ws, self.tab, self.frame, self.frames = ws, tab, frame, frames
        self.write_only = write_only
        self.header_style, self.data_style = header_style, data_style
        self.keep_widths = keep_widths or set()
        self.templated = templated
        self._next_row = 1

    def render(self) -> None:
        self.setup_sheet()
        if self.write_only:
            xlsx_stream.install(self.ws)
            self.ws._values_to_row = self._row_streamer([], [])
        for row_idx, row_cells in self.block_rows():
            self.emit(row_idx, row_cells)
        self.emit_data()
        totals_row = self.frame.totals_row
        if totals_row is not None:
            self.emit(totals_row, self.totals_cells())

    # set-up (all of it before the first row, as write-only mode needs)
    def setup_sheet(self) -> None:
        ws, frame, tab = self.ws, self.frame, self.tab
        widths = cells.column_widths(tab)
        for index, width in enumerate(widths):
            letter = frame.column(index)
            if letter not in self.keep_widths:
                ws.column_dimensions[letter].width = width
        if (lines := cells.header_lines(tab, widths)) > 1:
            ws.row_dimensions[frame.header_row].height = 15 * lines
        if tab.freeze_header:
            ws.freeze_panes = f"{col(frame.placement.first_col)}{frame.first_data_row}"
        self.setup_print()
        self.add_table()
        if tab.autofilter and tab.columns and not getattr(ws, "tables", None):
            ws.auto_filter.ref = (
                f"{frame.column(0)}{frame.header_row}:{frame.column(frame.n_cols - 1)}{frame.last_data_row}"
            )
        self.add_rules()
        self.add_validations()
        self.add_chart()

    def add_table(self) -> None:
        """The data block as an Excel table named from the tab's key (sinks/naming.py), so users'
        structured references, pivot tables and charts follow the rows as they grow or shrink. Left out
        when there is no data row, on a templated (customer-facing) tab, or when the headers could not
        name table columns (blank, repeated or multi-line)."""
        tab, frame, ws = self.tab, self.frame, self.ws
        if self.templated:
            return
        headers = [cells.clean_text(c.header) for c in tab.columns]
        unusable = any(not h.strip() or "\n" in h or "\r" in h for h in headers)
        if not headers or frame.n_rows == 0 or unusable or getattr(ws, "tables", None):
            return
        if len({h.casefold() for h in headers}) != len(headers):
            return
        last = frame.column(frame.n_cols - 1)
        ref = f"{frame.column(0)}{frame.header_row}:{last}{frame.last_data_row}"
        table = Table(displayName=block_name(tab), ref=ref, autoFilter=AutoFilter(ref=ref) if tab.autofilter else None)
        table.tableColumns = [TableColumn(id=i + 1, name=h) for i, h in enumerate(headers)]
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False, showColumnStripes=False)
        with warnings.catch_warnings():  # "in write-only mode you must add table columns manually": done above
            warnings.simplefilter("ignore", UserWarning)
            ws.add_table(table)

    def setup_print(self) -> None:
        ws = self.ws
        if not self.templated:  # a template keeps its own print settings
            ws.page_setup.orientation = "landscape"
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True
            margins = ws.page_margins  # narrow margins: a wide table prints larger
            margins.left = margins.right = 0.4
            margins.top = margins.bottom = 0.6
            margins.header = margins.footer = 0.3
        if not ws.print_title_rows:
            ws.print_title_rows = f"{self.frame.header_row}:{self.frame.header_row}"

    def add_rules(self) -> None:
        tab, frame = self.tab, self.frame
        if not tab.rules or frame.n_rows == 0:
            return
        for rule in tab.rules:
            try:
                when = tab.column_index(rule.when)
                targets: list[int | None] = [tab.column_index(h) for h in rule.columns] or [None]
            except KeyError as exc:
                raise RenderError(f"tab {tab.name!r}: conditional rule names unknown column {exc}") from None
            ref = f"${frame.column(when)}{frame.first_data_row}"
            formula = cells.rule_formula(rule, ref)
            ranges = []
            for target in targets:
                if target is None:
                    ranges.append(
                        f"{frame.column(0)}{frame.first_data_row}:{frame.column(frame.n_cols - 1)}{frame.last_data_row}"
                    )
                else:
                    ranges.append(frame.data_range(target))
            style = rule.style
            fill = (
                PatternFill("solid", fgColor=cells.hex_colour(style.fill), bgColor=cells.hex_colour(style.fill))
                if style.fill
                else None
            )
            font = (
                Font(color=cells.hex_colour(style.font_color), bold=style.bold or None)
                if style.font_color or style.bold
                else None
            )
            self.ws.conditional_formatting.add(" ".join(ranges), FormulaRule(formula=[formula], fill=fill, font=font))

    def add_validations(self) -> None:
        tab, frame = self.tab, self.frame
        for validation in tab.validations:
            try:
                index = tab.column_index(validation.column)
            except KeyError:
                raise RenderError(f"tab {tab.name!r}: validation names unknown column {validation.column!r}") from None
            if validation.kind in ("list", "growing_list"):
                source = self.list_source(validation.source, growing=validation.kind == "growing_list")
                rule = DataValidation(type="list", formula1=source, allow_blank=True)
            elif validation.kind == "positive_decimal":
                rule = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=True)
            elif validation.kind == "positive_whole":
                rule = DataValidation(type="whole", operator="greaterThan", formula1="0", allow_blank=True)
            elif validation.kind == "one_of":
                rule = DataValidation(type="list", formula1='"' + ",".join(validation.values) + '"', allow_blank=True)
            elif validation.kind == "us_zip":
                first = frame.data_range(index).split(":")[0]
                zip_rule = f'OR(AND(LEN({first})=5,ISNUMBER(--{first})),AND(LEN({first})=10,MID({first},6,1)="-"))'
                rule = DataValidation(type="custom", formula1=zip_rule, allow_blank=True)
            else:
                raise RenderError(f"tab {tab.name!r}: unknown validation kind {validation.kind!r}")
            rule.showErrorMessage = True
            rule.error = validation.message or (
                "Choose a value from the list" if validation.kind == "list" else "Enter a number greater than 0"
            )
            rule.errorTitle = validation.column[:32]
            if validation.message:
                rule.showInputMessage = True
                rule.prompt = validation.message[:255]
            rule.add(frame.data_range(index))
            self.ws.data_validations.append(rule)

    def list_source(self, source: tuple[str, str] | None, *, growing: bool = False) -> str:
        if source is None:
            raise RenderError(f"tab {self.tab.name!r}: a list validation needs a source (tab, column)")
        tab_name, header = source
        frame = self.frames.get(tab_name)
        if frame is None:
            raise RenderError(f"tab {self.tab.name!r}: validation source tab {tab_name!r} is not in the workbook")
        index = self._source_index(tab_name, header)
        if not growing:
            return f"{quote_sheet(frame.title)}!{frame.data_range(index, absolute=True)}"
        letter, first = frame.column(index), frame.first_data_row
        cells = f"{quote_sheet(frame.title)}!${letter}${first}:${letter}${first + GROWING_LIST_ROWS - 1}"
        start = f"{quote_sheet(frame.title)}!${letter}${first}"
        return f"OFFSET({start},0,0,MAX(1,COUNTA({cells})),1)"  # the filled cells only, however many

    def _source_index(self, tab_name: str, header: str) -> int:
        try:
            return self.frames[tab_name].tab.column_index(header)
        except KeyError:
            raise RenderError(
                f"tab {self.tab.name!r}: validation source column {header!r} is not in tab {tab_name!r}"
            ) from None

    def add_chart(self) -> None:
        tab, frame = self.tab, self.frame
        if tab.chart is None or not frame.has_totals or not tab.chart.columns:
            return
        try:
            indexes = [tab.column_index(h) for h in tab.chart.columns]
        except KeyError as exc:
            raise RenderError(f"tab {tab.name!r}: chart names unknown column {exc}") from None
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
        chart.title = tab.chart.title
        first = frame.placement.first_col
        row = frame.totals_row
        if indexes == list(range(indexes[0], indexes[0] + len(indexes))):
            lo, hi = first + indexes[0], first + indexes[-1]
            chart.add_data(
                Reference(self.ws, min_col=lo, max_col=hi, min_row=row, max_row=row),
                from_rows=True,
                titles_from_data=False,
            )
            chart.set_categories(
                Reference(self.ws, min_col=lo, max_col=hi, min_row=frame.header_row, max_row=frame.header_row)
            )
            chart.legend = None
        else:
            for index in indexes:
                ref = Reference(self.ws, min_col=first + index, min_row=row)
                chart.series.append(Series(ref, title=tab.columns[index].header))
        chart.y_axis.title = None
        chart.y_axis.number_format = '"$"#,##0'  # whole currency units on the axis
        chart.y_axis.majorGridlines = None
        chart.height, chart.width = 7.5, 16
        # below the table, so the sheet prints at the table's width
        self.ws.add_chart(chart, f"{col(first)}{(frame.totals_row or frame.last_data_row) + 3}")

    # rows
    def block_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """Title, info block and header row, each as (row number, cells)."""
        tab, placement, ws = self.tab, self.frame.placement, self.ws
        if placement.title is not None:
            r, c = placement.title
            title = self.text_cell(c, tab.title, font=None if self.templated else cells.TITLE_FONT)
            if self.templated and (existing := ws._cells.get((r, c))) is not None:
                title._style = copy(existing._style)
            self.add_note(title)
            yield r, [title]
        if placement.info is not None:
            r, c = placement.info
            for offset, (label, value) in enumerate(tab.info):
                label_cell = self.text_cell(c, label, font=None if self.templated else cells.BOLD)
                if self.templated and (existing := ws._cells.get((r + offset, c))) is not None:
                    label_cell._style = copy(existing._style)
                yield r + offset, [label_cell, self.text_cell(c + 1, value)]
        header = []
        header_alignments = cells.header_alignments(tab)
        for index, column in enumerate(tab.columns):
            cell = cells.styled_cell(
                ws,
                base=self.header_style,
                font=None if self.header_style else cells.BOLD,
                fill=None if self.header_style else cells.HEADER_FILL,
                border=None if self.header_style else cells.HEADER_BORDER,
            )
            cell.column = placement.first_col + index
            cell.alignment = header_alignments[index]
            cells.set_text(cell, column.header)
            header.append(cell)
        if placement.title is None and header:
            self.add_note(header[0])
        yield self.frame.header_row, header

    def add_note(self, cell: Cell) -> None:
        if self.tab.note:
            comment = Comment(cells.clean_text(self.tab.note), "sheetsync")
            comment.width, comment.height = 300, 150
            cell.comment = comment

    def text_cell(self, column: int, text: str, *, font: Font | None = None) -> Cell:
        cell = cells.styled_cell(self.ws, font=font)
        cell.column = column
        cells.set_text(cell, text)
        return cell

    def totals_cells(self) -> list[Cell]:
        tab, frame = self.tab, self.frame
        out = []
        has_label = any(c.total is Total.LABEL for c in tab.columns)
        for index, column in enumerate(tab.columns):
            fmt = Format.INTEGER if column.total is Total.COUNT else column.format
            cell = cells.styled_cell(
                self.ws, number_format=number_format(fmt, tab.negatives), font=cells.BOLD, border=cells.TOTALS_BORDER
            )
            cell.column = frame.placement.first_col + index
            if column.total is Total.LABEL or (index == 0 and column.total is None and not has_label):
                cells.set_text(cell, "Total")
            elif column.total is not None:
                if frame.n_rows:
                    cells.set_formula(cell, f"SUBTOTAL({SUBTOTAL_FUNCTIONS[column.total]},{frame.data_range(index)})")
                elif column.total is not Total.AVERAGE:
                    cell._value, cell.data_type = 0, "n"
            out.append(cell)
        return out

    def emit(self, row_idx: int, row_cells: list[Cell]) -> None:
        if self.write_only:
            self._pad_to(row_idx)
            self.ws.append(_Prepared(row_cells))
            self._next_row += 1
            return
        for cell in row_cells:
            cell.row = row_idx
            self.ws._cells[(row_idx, cell.column)] = cell

    def _pad_to(self, row_idx: int) -> None:
        """Append blank rows until the next row appended is `row_idx` (write-only mode)."""
        if row_idx < self._next_row:
            raise RenderError(f"tab {self.tab.name!r}: row {row_idx} would overwrite an earlier block")
        while self._next_row < row_idx:
            self.ws.append(_Prepared())
            self._next_row += 1

    def column_prototypes(self) -> list[Cell]:
        protos = []
        alignments = cells.data_alignments(self.tab)
        for index, column in enumerate(self.tab.columns):
            fmt = number_format(column.format, self.tab.negatives)
            proto = cells.styled_cell(self.ws, number_format=fmt, base=self.data_style)
            proto.column = self.frame.placement.first_col + index
            if alignments[index] is not None:
                proto.alignment = alignments[index]
            protos.append(proto)
        return protos

    def emit_data(self) -> None:
        protos = self.column_prototypes()
        fillers = [cells.make_filler(column.format) for column in self.tab.columns]
        if not self.write_only:
            self._place_data(protos, fillers)
            return
        self._pad_to(self.frame.first_data_row)
        self.ws._values_to_row = self._row_streamer(protos, fillers)
        append = self.ws.append
        for row in self.tab.rows:
            append(row if isinstance(row, list | tuple) else list(row))
        self._next_row += len(self.tab.rows)

    def _row_streamer(self, protos: list[Cell], fillers: list[cells.Filler]) -> Any:
        """Replacement for WriteOnlyWorksheet._values_to_row: a data row as serialized XML when the sheet
        has the streaming writer (xlsx_stream.py), else filled into one reused styled cell per column.
        openpyxl serializes each row as soon as it is appended, so reusing the cells is safe."""
        fast = bool(protos) and xlsx_stream.installed(self.ws)
        serialize = xlsx_stream.RowSerializer(self.ws, protos, fillers) if fast else None
        fill_cells = _cell_filler(protos, fillers)

        def values_to_row(values: Sequence[Any], row_idx: int) -> Any:
            if type(values) is _Prepared:
                return _numbered(values, row_idx)
            xml = serialize(values, row_idx) if serialize is not None else None
            return xml if xml is not None else fill_cells(values, row_idx)

        return values_to_row

    def _place_data(self, protos: list[Cell], fillers: list[Any]) -> None:
        store = self.ws._cells
        row_idx = self.frame.first_data_row
        for row in self.tab.rows:
            for fill, proto, value in zip(fillers, protos, row, strict=False):
                if value is None:
                    continue
                cell = cells.clone(proto)
                cell.row = row_idx
                if isinstance(value, Link) and safe_link(value.url):
                    cell.font = cells.LINK_FONT
                fill(cell, value)
                store[(row_idx, cell.column)] = cell
            row_idx += 1


def _numbered(row_cells: Sequence[Cell], row_idx: int) -> Iterator[Cell]:
    for cell in row_cells:
        cell.row = row_idx
        yield cell


def _cell_filler(protos: list[Cell], fillers: list[cells.Filler]) -> Any:
    """Cells of one data row for openpyxl's cell writer: the reused prototypes, a clone for a link."""
    link_font = cells.LINK_FONT

    def fill_cells(values: Sequence[Any], row_idx: int) -> Iterator[Cell]:
        for fill, proto, value in zip(fillers, protos, values, strict=False):
            if value is None:
                continue
            if type(value) is Link and safe_link(value.url):
                cell = cells.clone(proto)
                cell.font = link_font
                cell.row = row_idx
                fill(cell, value)
                yield cell
                continue
            proto.row = row_idx
            fill(proto, value)
            yield proto

    return fill_cells
