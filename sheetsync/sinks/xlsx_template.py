"""Templated tabs: render into a branded workbook from templates/ instead of a blank sheet.

A template marks where things go with defined names: `sheetsync_data` (required) is the top-left
cell of the header row, `sheetsync_title` the title cell and `sheetsync_info` the first label cell of
the header block (values go one column to the right). The row below `sheetsync_data` is the
template's data row: its style is used for every data row, and the tables, conditional formats,
data validations, defined names and print area that end on it grow down with the data. The
template's styles, named styles, logo, header/footer and print settings are kept. Nothing should sit
below the data row, since the data grows over it.
"""

from __future__ import annotations

import io
from copy import copy
from importlib import resources
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.drawing.image import Image
from openpyxl.utils.cell import range_boundaries, range_to_tuple
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.table import TableColumn

from sheetsync.errors import RenderError
from sheetsync.model import Tab, Workbook
from sheetsync.sinks.xlsx_cells import quote_sheet
from sheetsync.sinks.xlsx_write import Frame, Placement, TabRenderer, frame_of

DATA_NAME, TITLE_NAME, INFO_NAME = "sheetsync_data", "sheetsync_title", "sheetsync_info"


def default_templates_dir() -> Path:
    """The shipped templates: the package `sheetsync.templates` (the repository's templates/)."""
    try:
        return Path(str(resources.files("sheetsync.templates")))
    except (ModuleNotFoundError, TypeError):
        return Path(__file__).resolve().parents[2] / "templates"


def template_path(name: str, templates_dir: Path | None) -> Path:
    folder = Path(templates_dir) if templates_dir is not None else default_templates_dir()
    path = folder / (name if name.endswith((".xlsx", ".xltx")) else f"{name}.xlsx")
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.xlsx")) if folder.is_dir() else []
        raise RenderError(f"template {name!r} not found in {folder} (templates: {', '.join(known) or 'none'})")
    return path


def build_templated(workbook: Workbook, titles: list[str], templates_dir: Path | None) -> Any:
    """An openpyxl workbook (normal mode) holding every tab, templated ones inside their template."""
    names = {tab.template for tab in workbook.tabs if tab.template}
    if len(names) > 1:
        raise RenderError(
            f"workbook {workbook.name!r}: tabs use different templates ({', '.join(sorted(names))}); "
            "one template per workbook"
        )
    path = template_path(names.pop(), templates_dir)
    try:
        book = load_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise RenderError(f"template {path}: cannot be read ({exc})") from None
    proto_title, anchor = find_name(book, DATA_NAME, path)
    proto = book[proto_title]
    marks = (anchor, optional_name(book, TITLE_NAME, proto_title), optional_name(book, INFO_NAME, proto_title))
    drop_marker_names(book)
    targets = prepare_sheets(book, proto, list(zip(workbook.tabs, titles, strict=True)))
    rename_references(book, proto_title, proto.title)
    placements = {tab.name: placement_for(tab, *marks) if tab.template else Placement.of(tab) for tab in workbook.tabs}
    frames = {
        tab.name: frame_of(tab, title, placements[tab.name]) for tab, title in zip(workbook.tabs, titles, strict=True)
    }
    for tab in workbook.tabs:
        ws = targets[tab.name]
        if tab.template:
            render_into_template(ws, tab, frames[tab.name], frames)
        else:
            TabRenderer(ws, tab, frames[tab.name], frames, write_only=False).render()
    order = [targets[tab.name] for tab in workbook.tabs]
    book._sheets = order + [ws for ws in book._sheets if ws not in order]
    book.active = 0
    return book


def find_name(book: Any, name: str, path: Path | None = None) -> tuple[str, tuple[int, int]]:
    """(sheet title, (row, column)) of the top-left cell a workbook- or sheet-level name points at."""
    defined = book.defined_names.get(name)
    sheets = [defined] if defined is not None else []
    sheets += [ws.defined_names[name] for ws in book.worksheets if name in ws.defined_names]
    for item in sheets:
        for title, ref in item.destinations:
            min_col, min_row, _, _ = range_boundaries(ref.replace("$", ""))
            return title, (min_row, min_col)
    raise RenderError(f"template {path or ''}: no defined name {name!r} marking where the data goes")


def optional_name(book: Any, name: str, sheet: str) -> tuple[int, int] | None:
    try:
        title, cell = find_name(book, name)
    except RenderError:
        return None
    return cell if title == sheet else None


def placement_for(
    tab: Tab, anchor: tuple[int, int], title: tuple[int, int] | None, info: tuple[int, int] | None
) -> Placement:
    if info is not None and tab.info and info[0] + len(tab.info) > anchor[0]:
        raise RenderError(
            f"tab {tab.name!r}: {len(tab.info)} header lines do not fit above the template's data at row {anchor[0]}"
        )
    return Placement(header_row=anchor[0], first_col=anchor[1], title=title, info=info)


def drop_marker_names(book: Any) -> None:
    """The sheetsync_* names only mark spots for the writer; the output does not keep them."""
    for name in (DATA_NAME, TITLE_NAME, INFO_NAME):
        book.defined_names.pop(name, None)
        for ws in book.worksheets:
            ws.defined_names.pop(name, None)


def rename_references(book: Any, old: str, new: str) -> None:
    """Point workbook-level names at the template sheet's new title (openpyxl does not)."""
    if old == new:
        return
    for defined in book.defined_names.values():
        text = defined.attr_text or ""
        for form in (quote_sheet(old) + "!", old + "!"):
            text = text.replace(form, quote_sheet(new) + "!")
        defined.attr_text = text


def prepare_sheets(book: Any, proto: Any, tabs: list[tuple[Tab, str]]) -> dict[str, Any]:
    """A worksheet per tab: the template sheet for the first templated tab, copies of it for the
    others (made before anything is filled in), new sheets for plain tabs."""
    templated = [(tab, title) for tab, title in tabs if tab.template]
    copies = [copy_template_sheet(book, proto) for _ in templated[1:]]
    targets: dict[str, Any] = {}
    for (tab, title), ws in zip(templated, [proto, *copies], strict=True):
        ws.title = title
        targets[tab.name] = ws
    for tab, title in tabs:
        if not tab.template:
            targets[tab.name] = book.create_sheet(title)
    return targets


def copy_template_sheet(book: Any, proto: Any) -> Any:
    """openpyxl's copy_worksheet, plus what it leaves out: images, header/footer, conditional
    formats, validations, freeze panes and print titles (tables are not copied)."""
    ws = book.copy_worksheet(proto)
    ws.HeaderFooter = copy(proto.HeaderFooter)
    ws.freeze_panes = proto.freeze_panes
    ws.print_title_rows = proto.print_title_rows
    for image in proto._images:
        data = image._data()  # reading closes the image's stream: give the original a fresh one
        image.ref = io.BytesIO(data)
        clone = Image(io.BytesIO(data))
        clone.width, clone.height = image.width, image.height
        ws.add_image(clone, copy(image.anchor))
    for cf in proto.conditional_formatting:
        for rule in cf.rules:
            ws.conditional_formatting.add(str(cf.sqref), copy(rule))
    for dv in proto.data_validations.dataValidation:
        ws.data_validations.append(copy(dv))
    return ws


def render_into_template(ws: Any, tab: Tab, frame: Frame, frames: dict[str, Frame]) -> None:
    header_row, first_col = frame.header_row, frame.placement.first_col
    data_row = header_row + 1
    header_style = ws._cells.get((header_row, first_col))
    data_style = ws._cells.get((data_row, first_col))
    header_style = copy(header_style) if header_style is not None and header_style.has_style else None
    data_style = copy(data_style) if data_style is not None and data_style.has_style else None
    last_col = first_col + frame.n_cols - 1
    for key in [k for k in ws._cells if k[0] == data_row or (k[0] == header_row and k[1] > last_col)]:
        del ws._cells[key]  # the template's sample data row, and header cells past the columns
    keep = {letter for letter, dim in ws.column_dimensions.items() if dim.customWidth}
    TabRenderer(
        ws,
        tab,
        frame,
        frames,
        write_only=False,
        header_style=header_style,
        data_style=data_style,
        keep_widths=keep,
        templated=True,
    ).render()
    grow(ws, tab, frame)


def grown(ref: str, data_row: int, last_row: int) -> str:
    """A range ending on the template's data row, extended down to `last_row`."""
    parts = []
    for part in str(ref).split():
        cells = CellRange(part)
        if cells.min_row <= data_row == cells.max_row:
            cells.expand(down=last_row - data_row)
        parts.append(cells.coord)
    return " ".join(parts)


def grow(ws: Any, tab: Tab, frame: Frame) -> None:
    """Grow what covered the template's data row so it covers the data rows."""
    data_row = frame.header_row + 1
    last = max(frame.last_data_row, data_row)
    if last == data_row:
        return
    for table in ws.tables.values():
        ref = grown(table.ref, data_row, last)
        if ref != table.ref:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            if min_row == frame.header_row and min_col == frame.placement.first_col:
                max_col = min_col + frame.n_cols - 1
                table.tableColumns = [TableColumn(id=i + 1, name=c.header) for i, c in enumerate(tab.columns)]
            table.ref = CellRange(min_col=min_col, min_row=min_row, max_col=max_col, max_row=max_row).coord
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
    rules = ws.conditional_formatting._cf_rules
    for cf in list(rules):
        ref = grown(str(cf.sqref), data_row, last)
        if ref != str(cf.sqref):
            for rule in rules.pop(cf):
                ws.conditional_formatting.add(ref, rule)
    for dv in ws.data_validations.dataValidation:
        dv.sqref = type(dv.sqref)(grown(str(dv.sqref), data_row, last))
    grow_names(ws, data_row, last)


def grow_names(ws: Any, data_row: int, last: int) -> None:
    book = ws.parent
    for defined in [*book.defined_names.values(), *ws.defined_names.values()]:
        if defined.name in (DATA_NAME, TITLE_NAME, INFO_NAME):
            continue
        new = []
        for title, ref in defined.destinations:
            bare = ref.replace("$", "")
            if title == ws.title and ":" in bare:
                _, bounds = range_to_tuple(f"'{title}'!{bare}")
                min_col, min_row, max_col, max_row = bounds
                if min_row <= data_row == max_row:
                    bare = CellRange(min_col=min_col, min_row=min_row, max_col=max_col, max_row=last).coord
                    ref = _absolute(bare)
            new.append(f"{quote_sheet(title)}!{ref}")
        if new:
            defined.attr_text = ",".join(new)


def _absolute(ref: str) -> str:
    out = []
    for part in ref.split(":"):
        letters = "".join(ch for ch in part if ch.isalpha())
        digits = part[len(letters) :]
        out.append(f"${letters}${digits}")
    return ":".join(out)
