"""Customer statements as printed documents, and the run metadata every workbook keeps off its pages.

A tab with a `model.Statement` is streamed in write-only mode like any plain tab, but laid out as a
page a controller would send (columns A.. of the tab's columns; `n` columns, at least 5):

    logo                                                     STATEMENT
    company name, address, phone, e-mail        Statement date | 2026-03-01
                                                Account        | 12
                                                Terms          | Net 30
                                                Amount due     | $ 1,234.56
    Bill to                           Remit to
    customer lines                    remit-to lines
    Current | 1-30 | 31-60 | 61-90 | 91+ | Credits | Amount due       (the aging band)
    header row (repeated on every printed page)
    open items ...
    Total
    Payment instructions (lines)
    Questions about this statement? phone, e-mail

The look comes from the template (templates/statement.xlsx by default): the brand colours of its
"Brand Header" named style, its logo (the company's `logo` replaces it), paper size, orientation and
margins. Nothing is copied sheet by sheet: the template is read once per run, so a statement costs
the same whether it is the first or the 600th.

Pages: manual page breaks where the page is full (sinks/xlsx_pages.py: from the paper, margins, row
heights and the fit-to-width scale), so the number of pages of each statement is known when it is
written and its footer says "Page X of Y" counted within the statement (the page number restarts at
1 on each statement sheet).

Run metadata (report, parameters, environment, times) never goes on a customer's page: it goes to
the workbook's document properties and a hidden "About" sheet, which also lists each statement's
sheet, customer and amount due (for rendering one PDF per customer).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, PatternFill, Side
from openpyxl.worksheet.pagebreak import Break

from sheetsync.errors import RenderError
from sheetsync.model import Company, Format, Negatives, Statement, Tab, Workbook, money_format
from sheetsync.sinks import xlsx_cells as cells
from sheetsync.sinks.xlsx_pages import DEFAULT_WIDTH, PageSetup, page_breaks
from sheetsync.sinks.xlsx_write import Frame, Placement, TabRenderer

MIN_COLUMNS = 5
ROW_HEIGHT = 15.0  # points
TALL_ROW = 30.0  # points: two lines (the title, the aging band labels, the header row)
MIN_WIDTH = 11.0  # characters: every statement column
MAX_FOOTER = 255  # Excel's limit on a header/footer section's total length
DEFAULT_BRAND, DEFAULT_ACCENT, DEFAULT_LIGHT = "1F4E5F", "F2A541", "EAF2F4"


# -- the template's look ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """What a statement takes from its template: colours, logo and page setup."""

    brand: str = DEFAULT_BRAND
    accent: str = DEFAULT_ACCENT
    light: str = DEFAULT_LIGHT
    logo: bytes | None = None
    logo_size: tuple[int, int] = (180, 48)  # pixels as placed
    orientation: str = "portrait"
    paper_size: int = 1  # Letter
    margins: tuple[float, float, float, float, float, float] = (0.5, 0.5, 0.5, 0.75, 0.3, 0.3)


def look_of(template: str | None, templates_dir: Path | None, company: Company | None) -> Look:
    """The look of `template` (read once per file and run), with the company's logo if it has one. The
    shipped template's logo is the placeholder company's (sandbox and demo): beside any other letterhead,
    or none, a company without a `logo` prints no logo rather than someone else's."""
    from sheetsync.config import PLACEHOLDER_COMPANY
    from sheetsync.sinks.xlsx_template import default_templates_dir, template_path

    path = template_path(template or "statement", templates_dir)
    base = _read_look(path)
    if company is not None and company.logo:
        data = Path(company.logo).read_bytes()
        width, height = _scaled(data, base.logo_size[1])
        return replace(base, logo=data, logo_size=(width, height))
    if company != PLACEHOLDER_COMPANY and path.resolve().parent == default_templates_dir().resolve():
        return replace(base, logo=None)
    return base


@lru_cache(maxsize=8)
def _read_look(path: Path) -> Look:
    try:
        book = load_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise RenderError(f"template {path}: cannot be read ({exc})") from None
    ws = book.worksheets[0]
    styles = {style.name: style for style in book._named_styles}
    header = styles.get("Brand Header")
    brand = _rgb(header.fill.fgColor) if header is not None else None
    accent = _rgb(header.border.bottom.color) if header is not None and header.border.bottom else None
    logo, size = None, (180, 48)
    if ws._images:
        image = ws._images[0]
        logo = image._data()
        size = (int(image.width), int(image.height))
    m = ws.page_margins
    return Look(
        brand=brand or DEFAULT_BRAND,
        accent=accent or DEFAULT_ACCENT,
        logo=logo,
        logo_size=size,
        orientation=ws.page_setup.orientation or "portrait",
        paper_size=int(ws.page_setup.paperSize or 1),
        margins=(m.left, m.right, m.top, m.bottom, m.header, m.footer),
    )


def _rgb(colour: Any) -> str | None:
    value = getattr(colour, "rgb", None)
    return value[-6:] if isinstance(value, str) and len(value) >= 6 else None


def _scaled(data: bytes, height: int) -> tuple[int, int]:
    """A logo's placed size: `height` pixels high, its aspect ratio kept (at most 4x as wide)."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as image:
        w, h = image.size
    return min(int(height * w / max(h, 1)), 4 * height), height


# -- the page plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Row numbers of a statement's blocks (1-based) and its page breaks."""

    facts_row: int
    parties_row: int
    band_row: int
    header_row: int

    @classmethod
    def of(cls, tab: Tab) -> Plan:
        statement = _statement(tab)
        company = statement.company
        company_lines = len(_company_lines(statement)) if company else 0
        left_end = 4 + company_lines  # company block from row 5
        right_end = 3 + len(statement.facts) + 2  # facts from row 4, a blank row, the Amount due box
        parties_row = max(left_end, right_end) + 2
        party_lines = max(len(statement.customer), len(company.remit_to) if company else 0)
        band_row = parties_row + party_lines + 2
        header_row = band_row + (3 if statement.band else 0)
        return cls(4, parties_row, band_row, header_row)


def statement_placement(tab: Tab) -> Placement:
    return Placement(header_row=Plan.of(tab).header_row, first_col=1, title=None, info=None)


def tail_lines(statement: Statement) -> list[str]:
    company = statement.company
    if company is None:
        return []
    lines = list(company.payment_instructions)
    contact = " or ".join(x for x in (company.phone, company.email) if x)
    return lines + ([f"Questions about this statement? Contact us at {contact}."] if contact else [])


def statement_widths(tab: Tab) -> list[float]:
    """The width of each of a statement's columns (at least `MIN_COLUMNS` of them), in characters."""
    widths = [max(width, MIN_WIDTH) for width in cells.column_widths(tab)]
    widths += [DEFAULT_WIDTH] * (MIN_COLUMNS - len(widths))
    items = band_items(_statement(tab), len(widths))
    first = len(widths) - len(items)
    for offset, (_label, amount) in enumerate(items[:-1]):  # the last one is the Amount due box's column
        widths[first + offset] = max(widths[first + offset], cells.display_length(amount, Format.CURRENCY) + 0.5)
    widths[-1] = max(widths[-1], _due_box_width(tab))
    return widths


def band_items(statement: Statement, n: int) -> list[tuple[str, Decimal]]:
    """The aging band's (label, amount) cells, the Amount due last, right-aligned in the last of `n`
    columns: a band value can sit over a narrow column (a date), which then widens to show it whole."""
    band = list(statement.band)[: n - 1]
    if not band:
        return []
    total = statement.amount_due
    return [*band, ("Amount due", total if total is not None else sum((v for _, v in band), Decimal(0)))]


def _due_box_width(tab: Tab) -> float:
    """The width (in characters of the 11 pt body font) the Amount due value needs in the last column
    at 12 pt bold, so a large balance never prints as ###."""
    due = tab.statement.amount_due if tab.statement is not None else None
    shown = cells.display_length(due if due is not None else Decimal("0.00"), Format.CURRENCY)
    return shown * 12 / 11 * 1.1 + 2.0


def statement_breaks(
    look: Look, widths: list[float], tall: list[int], header_row: int, last_data_row: int, last_row: int
) -> list[int]:
    """Where a statement's pages end: as full as its page setup allows (sinks/xlsx_pages.py); `tall`
    are the rows `TALL_ROW` high."""
    setup = PageSetup(look.paper_size, look.orientation, look.margins, widths)
    heights = dict.fromkeys(tall, TALL_ROW)
    return page_breaks(heights, ROW_HEIGHT, header_row, last_row, last_row - last_data_row, setup.height_available())


# -- rendering -------------------------------------------------------------------------------------


def _statement(tab: Tab) -> Statement:
    if tab.statement is None:
        raise RenderError(f"tab {tab.name!r} has no statement")
    return tab.statement


def _company_lines(statement: Statement) -> list[str]:
    company = statement.company
    if company is None:
        return []
    contact = [x for x in (company.phone, company.email) if x]
    return [company.name, *company.address, *([" · ".join(contact)] if contact else [])]


def _role_styles(look: Look, negatives: Negatives) -> dict[str, dict[str, Any]]:
    """The styles of a statement's cells by role, in the look's colours; money shows negatives as told."""
    brand, accent, money = look.brand, look.accent, money_format(negatives)
    edge, thin = Side(style="medium", color=brand), Side(style="thin", color="B7C9CE")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    right, centre = Alignment(horizontal="right"), Alignment(horizontal="center", vertical="center", wrap_text=True)
    label, white = cells.body_font(bold=True, color=brand), cells.body_font(bold=True, color="FFFFFF")
    due = cells.body_font(size=12, bold=True)
    styles: dict[str, dict[str, Any]] = {
        "plain": {},
        "title": {"font": cells.body_font(size=20, bold=True, color=brand), "alignment": right},
        "name": {"font": cells.body_font(size=12, bold=True, color=brand)},
        "label": {"font": label},
        "fact_label": {"font": label, "alignment": right},
        "fact_value": {"alignment": right},
        "due_label": {
            "font": white,
            "fill": PatternFill("solid", fgColor=brand),
            "border": Border(left=edge, top=edge, bottom=edge),
            "alignment": Alignment(horizontal="right", vertical="center"),
        },
        "due_value": {
            "font": due,
            "fill": PatternFill("solid", fgColor=look.light),
            "border": Border(right=edge, top=edge, bottom=edge),
            "number_format": money,
        },
        "party": {"font": label, "border": Border(bottom=Side(style="thin", color=accent))},
        "band_label": {
            "font": label,
            "fill": PatternFill("solid", fgColor=look.light),
            "border": box,
            "alignment": centre,
        },
        "band_total_label": {
            "font": white,
            "fill": PatternFill("solid", fgColor=brand),
            "border": box,
            "alignment": centre,
        },
        "band_value": {"border": box, "number_format": money},
        "band_total_value": {"font": due, "border": box, "number_format": money},
        "header": {
            "font": white,
            "fill": PatternFill("solid", fgColor=brand),
            "border": Border(bottom=Side(style="medium", color=accent)),
            "alignment": Alignment(wrap_text=True, vertical="center", horizontal="center"),
        },
        "data": {"border": Border(bottom=Side(style="hair", color="B7C9CE"))},
    }
    styles["band_label"]["alignment"] = styles["band_total_label"]["alignment"] = centre
    return styles


def _prototypes(ws: Any, look: Look, negatives: Negatives) -> dict[str, Cell]:
    """One styled cell per role, made once per workbook and look: a statement's cells copy their
    style ids, so the 600th statement costs no more style lookups than the first."""
    cache = ws.parent.__dict__.setdefault("_sheetsync_statement_styles", {})
    if (look, negatives) not in cache:
        protos = {}
        for role, spec in _role_styles(look, negatives).items():
            proto = Cell(ws)
            for attribute, value in spec.items():
                setattr(proto, attribute, value)
            protos[role] = proto
        cache[look, negatives] = protos
    return cache[look, negatives]


class StatementRenderer(TabRenderer):
    """Streams one statement tab (write-only) with the letterhead, blocks and footer of `Look`."""

    def __init__(self, ws: Any, tab: Tab, frame: Frame, frames: dict[str, Frame], look: Look) -> None:
        super().__init__(ws, tab, frame, frames, write_only=True, templated=True)
        self.look = look
        self.statement = _statement(tab)
        self.plan = Plan.of(tab)
        self.n = max(len(tab.columns), MIN_COLUMNS)
        self.protos = _prototypes(ws, look, tab.negatives)
        self.header_style, self.data_style = self.protos["header"], self.protos["data"]

    def render(self) -> None:
        self.setup_page()
        self.ws._values_to_row = self._row_streamer([], [])
        for row_idx, row_cells in self.top_rows():
            self.emit(row_idx, row_cells)
        self.emit(self.frame.header_row, self.header_cells())
        self.emit_data()
        if self.frame.totals_row is not None:
            self.emit(self.frame.totals_row, self.totals_cells())
        for row_idx, row_cells in self.tail_rows():
            self.emit(row_idx, row_cells)

    # page set-up (before the first row)
    def setup_page(self) -> None:
        ws, look, frame = self.ws, self.look, self.frame
        widths = statement_widths(self.tab)
        for index, width in enumerate(widths):
            ws.column_dimensions[frame.column(index)].width = width
        ws.page_setup.orientation = look.orientation
        ws.page_setup.paperSize = look.paper_size
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.firstPageNumber = 1
        ws.page_setup.useFirstPageNumber = True
        m = ws.page_margins
        m.left, m.right, m.top, m.bottom, m.header, m.footer = look.margins
        ws.print_options.horizontalCentered = True
        ws.sheet_view.showGridLines = False
        ws.sheet_properties.tabColor = look.brand
        ws.print_title_rows = f"{frame.header_row}:{frame.header_row}"
        ws.sheet_format.defaultRowHeight = ROW_HEIGHT  # every application lays out the same rows per page
        ws.sheet_format.customHeight = True
        tall = self.tall_rows()
        for row in tall:
            ws.row_dimensions[row].height = TALL_ROW
        breaks = statement_breaks(look, widths, tall, frame.header_row, frame.last_data_row, self.last_row())
        for row in breaks:
            ws.row_breaks.append(Break(id=row))
        self.set_footer(len(breaks) + 1)
        if look.logo:
            image = Image(io.BytesIO(look.logo))
            image.width, image.height = look.logo_size
            ws.add_image(image, "A1")
        self.add_rules()

    def tall_rows(self) -> list[int]:
        """The rows two lines high: the title, the aging band's labels (they wrap) and the header row."""
        band = [self.plan.band_row] if self.statement.band else []
        return [1, *band, self.frame.header_row]

    def set_footer(self, pages: int) -> None:
        company = self.statement.company
        footer = self.ws.oddFooter
        footer.left.text = cells.clean_text(company.name if company else "")[:100]
        footer.left.size = 8
        footer.right.text = f"Page &P of {pages}"
        footer.right.size = 8
        customer = self.statement.customer[0] if self.statement.customer else ""
        footer.center.text = cells.clean_text(customer)[: MAX_FOOTER - 130].replace("&", "&&")
        footer.center.size = 8

    # cells
    def cell(self, column: int, value: Any, role: str = "plain") -> Cell:
        cell = Cell(self.ws)
        cell._style = copy(self.protos[role]._style)
        cell.column = column
        if isinstance(value, Decimal | int):
            cell._value, cell.data_type = value, "n"
        elif value is not None:
            cells.set_text(cell, str(value))
        return cell

    def top_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        rows: dict[int, list[Cell]] = {}
        n, statement = self.n, self.statement
        rows.setdefault(1, []).append(self.cell(n, statement.title.upper(), "title"))
        for offset, line in enumerate(_company_lines(statement)):
            rows.setdefault(5 + offset, []).append(self.cell(1, line, "name" if offset == 0 else "plain"))
        for offset, (label, value) in enumerate(statement.facts):
            pair = [self.cell(n - 1, label, "fact_label"), self.cell(n, value, "fact_value")]
            rows.setdefault(self.plan.facts_row + offset, []).extend(pair)
        box = self.plan.facts_row + len(statement.facts) + 1
        amount = statement.amount_due if statement.amount_due is not None else Decimal("0.00")
        rows.setdefault(box, []).extend(
            [self.cell(n - 1, "Amount due", "due_label"), self.cell(n, amount, "due_value")]
        )
        rows.update(self.parties_rows())
        rows.update(self.band_rows())
        for row_idx in sorted(rows):
            yield row_idx, sorted(rows[row_idx], key=lambda c: c.column)

    def parties_rows(self) -> dict[int, list[Cell]]:
        statement, row = self.statement, self.plan.parties_row
        remit_col = math.ceil(self.n / 2) + 1
        rows: dict[int, list[Cell]] = {row: [self.cell(1, "Bill to", "party")]}
        for offset, line in enumerate(statement.customer):
            rows.setdefault(row + 1 + offset, []).append(self.cell(1, line, "name" if offset == 0 else "plain"))
        if statement.company is not None and statement.company.remit_to:
            rows[row].append(self.cell(remit_col, "Remit to", "party"))
            for offset, line in enumerate(statement.company.remit_to):
                rows.setdefault(row + 1 + offset, []).append(self.cell(remit_col, line))
        return rows

    def band_rows(self) -> dict[int, list[Cell]]:
        items = band_items(self.statement, self.n)
        if not items:
            return {}
        first = self.n - len(items) + 1  # right-aligned under the table's money columns
        labels, values = [], []
        for offset, (label, amount) in enumerate(items):
            last = offset == len(items) - 1
            labels.append(self.cell(first + offset, label, "band_total_label" if last else "band_label"))
            values.append(self.cell(first + offset, amount, "band_total_value" if last else "band_value"))
        return {self.plan.band_row: labels, self.plan.band_row + 1: values}

    def header_cells(self) -> list[Cell]:
        out = []
        for index, column in enumerate(self.tab.columns):
            cell = cells.styled_cell(self.ws, base=self.header_style)
            cell.column = index + 1
            cells.set_text(cell, column.header)
            out.append(cell)
        return out

    def tail_cells_text(self) -> list[str]:
        return tail_lines(self.statement)

    def last_row(self) -> int:
        """The statement's last printed row: its last instruction line, else its totals or last item."""
        rows = [row for row, _ in self.tail_rows()]
        return rows[-1] if rows else (self.frame.totals_row or self.frame.last_data_row)

    def tail_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        lines = self.tail_cells_text()
        if not lines:
            return
        row = (self.frame.totals_row or self.frame.last_data_row + 1) + 2
        if self.statement.company and self.statement.company.payment_instructions:
            yield row, [self.cell(1, "Payment instructions", "label")]
            row += 1
        for line in lines:
            yield row, [self.cell(1, line)]
            row += 1


# -- run metadata ----------------------------------------------------------------------------------


def add_about(book: Any, workbook: Workbook, titles: list[str]) -> None:
    """Run metadata to the document properties; for a workbook with customer pages also to a hidden
    "About" sheet (with each statement's sheet, customer and amount due), never onto a page."""
    about = dict(workbook.about)
    props = book.properties
    props.creator = "sheetsync"
    props.title = _first_line(about.get("Report", workbook.name))
    props.subject = about.get("Parameters", "")[:255]
    props.description = "; ".join(f"{k}: {v}" for k, v in workbook.about)[:2000]
    props.keywords = about.get("Environment", "")[:255]
    pages = any(tab.statement for tab in workbook.tabs) or workbook.kept_keys  # kept: earlier statements stay
    if not workbook.about or not pages:
        return  # a workbook of customer pages only: others show the metadata in their header block
    name = "About" if "about" not in {t.casefold() for t in titles} else "About sheetsync"
    ws = book.create_sheet(name)
    ws.sheet_state = "hidden"
    for label, value in workbook.about:
        ws.append([label, value])
    statements = [(tab, title) for tab, title in zip(workbook.tabs, titles, strict=True) if tab.statement]
    if statements:
        ws.append([])
        ws.append(["Statement sheet", "Customer", "Amount due"])
        for tab, title in statements:
            assert tab.statement is not None
            customer = tab.statement.customer[0] if tab.statement.customer else ""
            ws.append([title, customer, tab.statement.amount_due])


def _first_line(text: str) -> str:
    return text.splitlines()[0][:255] if text else ""
