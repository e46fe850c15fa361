"""Build the shipped workbook templates (run it after changing this file, and commit the result).

    .venv/bin/python templates/build_templates.py

statement.xlsx: a customer statement in the brand colours, with a logo drawn here with Pillow, a
header and footer, portrait A4/Letter print setup fitted to the page width, named styles, and the
defined names the xlsx writer fills in (see sheetsync/sinks/xlsx_template.py):
sheetsync_title (C2), sheetsync_info (A6, up to 10 lines) and sheetsync_data (A17, the header row;
row 18 is the styled sample data row).
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
BRAND = "1F4E5F"  # deep teal
ACCENT = "F2A541"  # amber
LIGHT = "EAF2F4"
HEADER_ROW, INFO_ROW, TITLE_CELL = 17, 6, "C2"
BRAND_NAME = "Example Distribution"  # the sandbox placeholder company; a real [company] logo replaces it


def logo_png() -> bytes:
    """A 360x96 logo: a teal badge with an amber bar and the brand name."""
    image = PILImage.new("RGBA", (360, 96), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 359, 95), radius=18, fill=f"#{BRAND}")
    draw.rectangle((20, 70, 160, 78), fill=f"#{ACCENT}")
    font = ImageFont.load_default(size=30)
    draw.text((20, 18), BRAND_NAME, fill="white", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def named_styles() -> list[NamedStyle]:
    title = NamedStyle("Brand Title", font=Font(name="Calibri", size=18, bold=True, color=BRAND))
    label = NamedStyle("Brand Label", font=Font(bold=True, color=BRAND))
    header = NamedStyle(
        "Brand Header",
        font=Font(bold=True, color="FFFFFF"),
        fill=PatternFill("solid", fgColor=BRAND),
        alignment=Alignment(vertical="center"),
        border=Border(bottom=Side(style="medium", color=ACCENT)),
    )
    data = NamedStyle("Brand Data", border=Border(bottom=Side(style="hair", color="B7C9CE")))
    return [title, label, header, data]


def build_statement(path: Path) -> None:
    book = Workbook()
    ws = book.active
    ws.title = "Statement"
    styles = {style.name: style for style in named_styles()}
    for style in styles.values():
        book.add_named_style(style)

    logo = Image(io.BytesIO(logo_png()))
    logo.width, logo.height = 180, 48
    ws.add_image(logo, "A1")
    for row in (1, 2, 3):
        ws.row_dimensions[row].height = 18

    ws[TITLE_CELL] = "Customer statement"
    ws[TITLE_CELL].style = "Brand Title"
    for row in range(INFO_ROW, INFO_ROW + 10):
        ws.cell(row=row, column=1).style = "Brand Label"
    for column in range(1, 13):
        ws.cell(row=HEADER_ROW, column=column).style = "Brand Header"
        ws.cell(row=HEADER_ROW + 1, column=column).style = "Brand Data"
    ws.row_dimensions[HEADER_ROW].height = 20
    ws.column_dimensions["A"].width = 18

    # banded data rows that grow with the data
    ws.conditional_formatting.add(
        f"A{HEADER_ROW + 1}:L{HEADER_ROW + 1}",
        FormulaRule(formula=["MOD(ROW(),2)=0"], fill=PatternFill("solid", fgColor=LIGHT, bgColor=LIGHT)),
    )

    book.defined_names["sheetsync_title"] = DefinedName("sheetsync_title", attr_text="'Statement'!$C$2")
    book.defined_names["sheetsync_info"] = DefinedName("sheetsync_info", attr_text=f"'Statement'!$A${INFO_ROW}")
    book.defined_names["sheetsync_data"] = DefinedName("sheetsync_data", attr_text=f"'Statement'!$A${HEADER_ROW}")

    ws.oddHeader.left.text = BRAND_NAME
    ws.oddHeader.left.color = BRAND
    ws.oddHeader.right.text = "Customer statement"
    ws.oddFooter.left.text = "Questions about this statement? Contact your sales representative."
    ws.oddFooter.right.text = "Page &P of &N"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_LETTER
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.sheet_properties.tabColor = BRAND
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.sheet_view.showGridLines = False
    book.properties.creator = "sheetsync"
    book.properties.title = "Customer statement template"
    book.save(path)


def main() -> None:
    build_statement(HERE / "statement.xlsx")
    print(f"wrote {HERE / 'statement.xlsx'}")


if __name__ == "__main__":
    main()
