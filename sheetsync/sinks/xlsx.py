"""The xlsx sink: write model workbooks (`write_workbook`) and read them back (`XlsxSource`).

The code lives in xlsx_cells.py (typed cells, styles, widths), xlsx_write.py (rendering, atomic
save), xlsx_template.py (branded templates) and xlsx_read.py (the reader and write-back).
"""

from __future__ import annotations

from sheetsync.sinks.base import FormulaWithoutValue, SheetRow
from sheetsync.sinks.xlsx_read import XlsxSource
from sheetsync.sinks.xlsx_write import write_workbook

__all__ = ["FormulaWithoutValue", "SheetRow", "XlsxSource", "write_workbook"]
