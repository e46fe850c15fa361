"""The format a column is shown in: the one it gives, else the one its field's documented type implies.

Money -> currency, quantities -> decimal, counts -> integer, IDs -> id (a number without separators),
calendar dates -> date, instants -> datetime, the rest -> text (types from `apis/registry.field_type`).
An `expr` column without `format:` is text."""

from __future__ import annotations

from sheetsync.apis.registry import field_type
from sheetsync.definition.models import ColumnSpec
from sheetsync.model import FORMAT_OF_TYPE, Format


def column_format(column: ColumnSpec) -> Format:
    """The column's `format:`, or the format of its field's documented type, or text."""
    if "format" in column.model_fields_set or column.field is None:
        return column.format
    kind = field_type(column.field)
    return FORMAT_OF_TYPE[kind] if kind is not None else Format.TEXT
