"""Move a user's formula with its cell when a refresh re-lays the report around it.

A formula in a column the user added beside a report moves with its row (relative row references follow
the row, as when Excel copies a cell) and with the report's columns: a reference to a report column
follows that column's header to where the refreshed report put it, a reference to another user column
follows that column, and a reference to a report column that is no longer in the report becomes #REF!
(what Excel shows when a referenced column is deleted). References to other sheets keep their columns.
Formulas are split into tokens by openpyxl's tokenizer, never by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

from sheetsync.sinks.xlsx_worksheet import column_index, column_letters

_CELL = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)$")
_COLUMN = re.compile(r"^(\$?)([A-Za-z]{1,3})$")
_ROW = re.compile(r"^(\$?)([0-9]+)$")
REF_ERROR = "#REF!"
RowMap = Callable[[int, bool], "int | None"]  # (old row, written absolute "$7") -> new row, None: gone


@dataclass
class FormulaMover:
    """How one sheet's columns moved: `column_of(old column) -> new column`, or None when the column
    is gone; `own_sheets` are the names the sheet itself goes by in a formula (casefolded)."""

    column_of: Callable[[int], int | None]
    own_sheets: set[str]
    lost_references: int = field(default=0)

    def move(self, text: str, row_of: RowMap, *, other_sheets: bool = True) -> str:
        """`text` without its leading "=", its rows moved by `row_of(row, absolute)`; `other_sheets`:
        whether rows on other sheets move too (a copied cell: yes; a re-laid sheet: no)."""
        others = row_of if other_sheets else _same
        try:
            tokens = Tokenizer("=" + text)
        except TokenizerError:
            return text
        for token in tokens.items:
            if token.type == Token.OPERAND and token.subtype == Token.RANGE:
                token.value = self._move_range(token.value, row_of, others)
        return tokens.render()[1:]

    def _move_range(self, text: str, row_of: RowMap, others: RowMap) -> str:
        sheet, bang, area = text.rpartition("!")
        own = not bang or _unquoted(sheet).casefold() in self.own_sheets
        ends = area.split(":")
        rows = row_of if own else others
        moved = [self._move_end(end, rows, own, len(ends) == 2) for end in ends]
        if any(end is None for end in moved):
            self.lost_references += 1
            return REF_ERROR
        return sheet + bang + ":".join(end for end in moved if end is not None)

    def _move_end(self, end: str, row_of: RowMap, own: bool, in_area: bool) -> str | None:
        """One end of a reference; whole columns ("A:A") and rows ("5:5") only count inside an area."""
        if match := _CELL.match(end):
            fixed_column, letters, fixed_row, digits = match.groups()
            column = self._column(letters, own)
            row = row_of(int(digits), bool(fixed_row))
            if column is None or row is None or row < 1:
                return None
            return f"{fixed_column}{column_letters(column)}{fixed_row}{row}"
        if in_area and (match := _COLUMN.match(end)):
            column = self._column(match.group(2), own)
            return None if column is None else f"{match.group(1)}{column_letters(column)}"
        if in_area and (match := _ROW.match(end)):
            row = row_of(int(match.group(2)), bool(match.group(1)))
            return None if row is None or row < 1 else f"{match.group(1)}{row}"
        return end  # a name, a table's structured reference, an error value

    def _column(self, letters: str, own: bool) -> int | None:
        column = column_index(letters.upper())
        return self.column_of(column) if own else column


def _same(row: int, absolute: bool) -> int:
    return row


def _unquoted(sheet: str) -> str:
    if sheet.startswith("'") and sheet.endswith("'"):
        return sheet[1:-1].replace("''", "'")
    return sheet
