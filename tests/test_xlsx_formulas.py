"""Moving a user's formula with its cell: rows as the cell moved, report columns by header (here: the
report's column C moved to D, column E is gone, user columns from J move one right)."""

from __future__ import annotations

import pytest

from sheetsync.sinks.xlsx_formulas import FormulaMover


def column_of(column: int) -> int | None:
    return {3: 4, 4: 3, 5: None}.get(column, column + 1 if column >= 10 else column)


def copied_down_3(row: int, absolute: bool) -> int | None:
    return row if absolute else row + 3


@pytest.mark.parametrize(
    ("formula", "moved"),
    [
        ("C6*2", "D9*2"),  # the report column follows its header, the row follows the cell
        ("$C$6+$D6+C$6", "$D$6+$C9+D$6"),  # absolute rows stay, columns follow their header
        ("SUM(C:C)", "SUM(D:D)"),
        ("J6&K6", "K9&L9"),  # the user's own columns move right with the report's
        ("'Prices'!C6+Prices!A1", "'Prices'!D9+Prices!A4"),  # its own sheet by name
        ("Other!C6", "Other!C9"),  # another sheet: columns stay, a copied cell's rows move
        ("VLOOKUP(A6,Other!A:B,2,0)", "VLOOKUP(A9,Other!A:B,2,0)"),
        ("E6*2", "#REF!*2"),  # a report column that is gone
        ("SUM(price_list_prices[Price])+PriceCells", "SUM(price_list_prices[Price])+PriceCells"),
        ('IF(A6="C6!",1,0)', 'IF(A9="C6!",1,0)'),  # text is never a reference
        ("TAX+1", "TAX+1"),  # a name that looks like a column is a name
    ],
)
def test_a_formula_moves_with_its_cell_and_the_report_columns(formula: str, moved: str) -> None:
    assert FormulaMover(column_of, {"prices"}).move(formula, copied_down_3) == moved


def test_lost_references_are_counted() -> None:
    mover = FormulaMover(column_of, {"prices"})
    mover.move("E6+E7:E9", copied_down_3)
    assert mover.lost_references == 2


def test_other_sheets_keep_their_rows_when_the_sheet_is_re_laid() -> None:
    block = FormulaMover(column_of, {"prices"})
    assert (
        block.move("SUM(C6:C8)+Other!B6", lambda row, absolute: row + 2, other_sheets=False) == "SUM(D8:D10)+Other!B6"
    )
