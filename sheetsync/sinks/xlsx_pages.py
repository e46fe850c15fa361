"""How many rows of a sheet fit on a printed page, from its page setup: the paper, the margins, the row
heights and the scale that fitting the columns to one page wide gives.

A statement's footer says "Page X of Y" counted within the statement, so its page breaks are set by the
writer (an application's automatic breaks are not known when the file is written). They must come as
late as the page allows, and never after the application's own break: a page planned too full gets a
second, automatic break and its footer then counts wrong.

Column widths are in characters of the workbook's default font; Excel turns them into pixels with the
font's maximum digit width (7 px for Calibri 11, the default font), ECMA-376 part 1, 18.3.1.13:
pixels = trunc(((256 * width + trunc(128 / 7)) / 256) * 7). An application with a wider font (LibreOffice
without Calibri or its metric twin Carlito) prints the same columns at a smaller scale, so its pages
hold more rows than planned: never fewer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

POINTS_PER_INCH = 72.0
DIGIT_PX = 7  # Calibri 11's maximum digit width at 96 dpi
DEFAULT_WIDTH = 9.14  # a column without a width: 8 digits and the padding, 64 px (baseColWidth 8)
# paper sizes (ECMA-376 18.18.43 ST_PaperSize) as (width, height) in inches, portrait
PAPER_INCHES: Mapping[int, tuple[float, float]] = {
    1: (8.5, 11.0),  # Letter
    5: (8.5, 14.0),  # Legal
    8: (11.69, 16.54),  # A3
    9: (8.27, 11.69),  # A4
    11: (5.83, 8.27),  # A5
}
SAFETY_ROWS = 1  # one row of slack: applications round the scale and the margins differently


@dataclass(frozen=True)
class PageSetup:
    """What decides the printed page: paper (ST_PaperSize), orientation, margins in inches (left,
    right, top, bottom, header, footer, as openpyxl's PageMargins), column widths in characters."""

    paper_size: int
    orientation: str
    margins: tuple[float, float, float, float, float, float]
    widths: Sequence[float]

    def paper_points(self) -> tuple[float, float]:
        width, height = PAPER_INCHES.get(self.paper_size, PAPER_INCHES[1])
        if self.orientation == "landscape":
            width, height = height, width
        return width * POINTS_PER_INCH, height * POINTS_PER_INCH

    def printable_points(self) -> tuple[float, float]:
        """(width, height) inside the margins; the header and footer print within the top and bottom margins."""
        width, height = self.paper_points()
        left, right, top, bottom = self.margins[:4]
        return width - (left + right) * POINTS_PER_INCH, height - (top + bottom) * POINTS_PER_INCH

    def table_points(self) -> float:
        """The printed width of the columns at 100 %."""
        return sum(column_pixels(w) for w in self.widths) * 0.75

    def scale(self) -> float:
        """Fit to one page wide: the zoom a spreadsheet uses, in whole percent, never above 100 %."""
        fit = self.printable_points()[0] / max(self.table_points(), 1.0)
        return min(100, math.floor(fit * 100)) / 100

    def height_available(self) -> float:
        """The body height of a page in the sheet's own points (before scaling)."""
        return self.printable_points()[1] / self.scale()


def column_pixels(width: float) -> int:
    """A column's width in pixels at 96 dpi in Excel's default font (ECMA-376 18.3.1.13)."""
    return math.trunc(((256 * width + math.trunc(128 / DIGIT_PX)) / 256) * DIGIT_PX)


def page_breaks(
    heights: Mapping[int, float],
    default_height: float,
    header_row: int,
    last_row: int,
    keep_with_last: int,
    body: float,
) -> list[int]:
    """The rows after which a new page starts so that rows 1..`last_row` print in pages of `body` points.

    `heights` gives the rows whose height is not `default_height`. The header row repeats on every page
    (print titles). The last `keep_with_last` rows (totals, instructions) stay on the page of the last
    data row before them, which never prints alone: a break comes at the latest on the row before it.
    """

    def height(row: int) -> float:
        return heights.get(row, default_height)

    budget = body - SAFETY_ROWS * default_height
    used = sum(height(r) for r in range(1, header_row + 1))
    breaks: list[int] = []
    row = header_row + 1
    while row <= last_row:
        if used + height(row) > budget:
            breaks.append(row - 1)
            used = height(header_row)
        used += height(row)
        row += 1
    return _keep_the_end_together(breaks, header_row, last_row - keep_with_last)


def _keep_the_end_together(breaks: list[int], header_row: int, last_item: int) -> list[int]:
    """Move a break that would leave the totals and instructions without an open item up one row."""
    if breaks and breaks[-1] >= last_item and last_item > header_row + 1:
        moved = last_item - 1
        if len(breaks) < 2 or moved > breaks[-2]:
            return [*breaks[:-1], moved]
    return breaks
