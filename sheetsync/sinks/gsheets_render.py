"""model.Tab -> Sheets v4 batchUpdate requests: typed cell data and the formatting of one tab.

Values go out as CellData `userEnteredValue` of the right kind (numberValue, stringValue, boolValue,
formulaValue), never as text for Google to parse, so "0042" and "=1+1" stay strings. Dates are
serial numbers (days since 1899-12-30) with a DATE number format. The layout is model.py's.
"""

from __future__ import annotations

import math
import numbers
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sheetsync.errors import RenderError, SinkError
from sheetsync.model import (
    SUBTOTAL_FUNCTIONS,
    Column,
    ConditionalRule,
    Format,
    Formula,
    InfoValue,
    Link,
    Negatives,
    Style,
    Tab,
    Total,
    Validation,
    text_after_number,
)
from sheetsync.model import number_format as pattern_of
from sheetsync.sinks.links import safe_link
from sheetsync.sinks.xlsx_cells import column_widths, quote_sheet, rule_formula

MAX_CELL_CHARS = 50_000
EPOCH = date(1899, 12, 30)
NUMBER_FORMAT_TYPES: dict[Format, str] = {
    Format.TEXT: "TEXT",
    Format.INTEGER: "NUMBER",
    Format.DECIMAL: "NUMBER",
    Format.CURRENCY: "CURRENCY",
    Format.PERCENT: "PERCENT",
    Format.DATE: "DATE",
    Format.DATETIME: "DATE_TIME",
    Format.ID: "NUMBER",
}
BOLD = {"textFormat": {"bold": True}}
HEADER = {"textFormat": {"bold": True}, "backgroundColor": {"red": 0.8667, "green": 0.9216, "blue": 0.9686}}
LINK_COLOR = {"red": 0.07, "green": 0.33, "blue": 0.8}
INDENT_PADDING = {"top": 2, "right": 3, "bottom": 2, "left": 12}  # Sheets' default padding, one indent step left


@dataclass(frozen=True)
class GridSize:
    rows: int
    columns: int

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def grid_size(tab: Tab) -> GridSize:
    """The grid a tab needs: every row of the layout, plus one spare row under a frozen header."""
    last = tab.totals_row or (tab.header_row + len(tab.rows))
    columns = max(len(tab.columns), 2 if tab.info else 1)
    return GridSize(rows=max(last, tab.header_row + 1), columns=columns)


def number_format(fmt: Format, negatives: Negatives = Negatives.PARENTHESES) -> dict[str, str]:
    return {"type": NUMBER_FORMAT_TYPES[fmt], "pattern": pattern_of(fmt, negatives)}


def column_letter(index: int) -> str:
    """0-based column index -> A1 letters."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def serial(value: date | datetime) -> float:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return float((value - EPOCH).days)


def extended_value(value: Any, fmt: Format, where: str) -> dict[str, Any] | None:
    """The typed ExtendedValue of one model value; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, Formula):
        return {"formulaValue": value.text}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, datetime | date):
        return {"numberValue": serial(value)}
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        if fmt is Format.CURRENCY:
            value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return {"numberValue": float(value)}
    if isinstance(value, numbers.Integral):
        return {"numberValue": int(value)}
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else {"numberValue": number}
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        raise SinkError(f"{where} holds {len(text):,} characters; Google Sheets allows {MAX_CELL_CHARS:,} per cell")
    return {"stringValue": text}


def cell(value: Any, fmt: Format, where: str, *, bold: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if isinstance(value, Link):
        text = value.text or value.url
        data["userEnteredValue"] = extended_value(text, Format.TEXT, where)
        url = safe_link(value.url)  # never a link that carries a credential
        if text and url is not None:
            link_format = {"link": {"uri": url}, "underline": True, "foregroundColor": LINK_COLOR}
            data["textFormatRuns"] = [{"startIndex": 0, "format": link_format}]
    else:
        typed = extended_value(value, fmt, where)
        if typed is not None:
            data["userEnteredValue"] = typed
    if bold:
        data["userEnteredFormat"] = BOLD
    return data


def info_cell(value: InfoValue, negatives: Negatives, where: str) -> dict[str, Any]:
    """A header-block value: text as a string, a date as a serial with the date format, money as a number
    with the currency format (negatives as the tab shows them)."""
    if isinstance(value, str):
        return cell(value, Format.TEXT, where)
    fmt = Format.CURRENCY if isinstance(value, Decimal) else Format.DATE
    return {**cell(value, fmt, where), "userEnteredFormat": {"numberFormat": number_format(fmt, negatives)}}


def tab_rows(tab: Tab) -> list[dict[str, Any]]:
    """RowData for the whole tab, from row 1: title, info block, blank row, headers, data, totals."""
    where = f"tab {tab.name!r}"
    title: dict[str, Any] = {
        "userEnteredValue": extended_value(tab.title, Format.TEXT, f"{where} cell A1"),
        "userEnteredFormat": {"textFormat": {"bold": True, "fontSize": 14}},
    }
    if tab.note:
        title["note"] = tab.note
    rows: list[dict[str, Any]] = [{"values": [title]}]
    for label, value in tab.info:
        rows.append({"values": [cell(label, Format.TEXT, where, bold=True), info_cell(value, tab.negatives, where)]})
    rows.append({})
    rows.append({"values": [{**cell(c.header, Format.TEXT, where), "userEnteredFormat": HEADER} for c in tab.columns]})
    first = tab.first_data_row
    for offset, values in enumerate(tab.rows):
        row_number = first + offset
        rows.append(
            {
                "values": [
                    cell(v, c.format, f"{where} cell {column_letter(i)}{row_number}")
                    for i, (c, v) in enumerate(zip(tab.columns, values, strict=False))
                ]
            }
        )
    if tab.has_totals:
        rows.append({"values": [_total_cell(tab, i, c) for i, c in enumerate(tab.columns)]})
    return rows


def _total_cell(tab: Tab, index: int, column: Column) -> dict[str, Any]:
    if column.total is None:
        return {}
    if column.total is Total.LABEL:
        return {"userEnteredValue": {"stringValue": "Total"}, "userEnteredFormat": BOLD}
    letter = column_letter(index)
    if not tab.rows:
        return {"userEnteredValue": {"numberValue": 0}, "userEnteredFormat": BOLD}
    last = tab.first_data_row + len(tab.rows) - 1
    formula = f"=SUBTOTAL({SUBTOTAL_FUNCTIONS[column.total]},{letter}{tab.first_data_row}:{letter}{last})"
    return {"userEnteredValue": {"formulaValue": formula}, "userEnteredFormat": BOLD}


def format_requests(
    tab: Tab, sheet_id: int, tabs_by_name: dict[str, Tab], titles: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Column number formats, widths, filter, conditional rules and validation of one tab."""
    requests: list[dict[str, Any]] = []
    first0 = tab.first_data_row - 1  # 0-based
    end0 = tab.totals_row or (tab.first_data_row + len(tab.rows) - 1)  # exclusive, 0-based
    widths = column_widths(tab)
    for index, column in enumerate(tab.columns):
        if end0 > first0:
            requests.append(
                {
                    "repeatCell": {
                        "range": _range(sheet_id, first0, end0, index, index + 1),
                        "cell": {"userEnteredFormat": {"numberFormat": number_format(column.format, tab.negatives)}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": index, "endIndex": index + 1},
                    "properties": {"pixelSize": round(widths[index] * 7 + 5)},
                    "fields": "pixelSize",
                }
            }
        )
    if tab.autofilter and tab.columns:
        data_end = tab.first_data_row - 1 + len(tab.rows)
        requests.append(
            {
                "setBasicFilter": {
                    "filter": {
                        "range": _range(
                            sheet_id, tab.header_row - 1, max(data_end, tab.header_row), 0, len(tab.columns)
                        )
                    }
                }
            }
        )
    if end0 > first0:
        requests += _indents(tab, sheet_id, first0, end0)
    for rule in tab.rules:
        requests.append(_conditional(tab, sheet_id, rule))
    for validation in tab.validations:
        requests.append(_validation(tab, sheet_id, validation, tabs_by_name, titles or {}))
    requests.append(_chart(tab, sheet_id))
    return [r for r in requests if r]


def _indents(tab: Tab, sheet_id: int, first0: int, end0: int) -> list[dict[str, Any]]:
    """Text right of a number column, aligned left with a padding of one indent step (as xlsx indents it)."""
    indented = text_after_number([c.format for c in tab.columns])
    return [
        {
            "repeatCell": {
                "range": _range(sheet_id, first0, end0, index, index + 1),
                "cell": {"userEnteredFormat": {"horizontalAlignment": "LEFT", "padding": INDENT_PADDING}},
                "fields": "userEnteredFormat.horizontalAlignment,userEnteredFormat.padding",
            }
        }
        for index, indent in enumerate(indented)
        if indent
    ]


def _range(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
    return {"sheetId": sheet_id, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0, "endColumnIndex": c1}


def _conditional(tab: Tab, sheet_id: int, rule: ConditionalRule) -> dict[str, Any]:
    if not tab.rows:
        return {}
    first0, end0 = tab.first_data_row - 1, tab.first_data_row - 1 + len(tab.rows)
    if rule.columns:
        ranges = [_range(sheet_id, first0, end0, i, i + 1) for i in (tab.column_index(h) for h in rule.columns)]
    else:
        ranges = [_range(sheet_id, first0, end0, 0, len(tab.columns))]
    try:
        ref = f"${column_letter(tab.column_index(rule.when))}{tab.first_data_row}"
    except KeyError as exc:
        raise RenderError(f"tab {tab.name!r}: conditional rule names unknown column {exc}") from None
    return {
        "addConditionalFormatRule": {
            "index": 0,
            "rule": {
                "ranges": ranges,
                "booleanRule": {
                    "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": _formula(ref, rule)}]},
                    "format": _style(rule.style),
                },
            },
        }
    }


def _formula(ref: str, rule: ConditionalRule) -> str:
    try:
        return "=" + rule_formula(rule, ref)
    except ValueError as exc:
        raise RenderError(f"conditional rule on {rule.when!r}: {exc}") from None


def _style(style: Style) -> dict[str, Any]:
    fmt: dict[str, Any] = {}
    if style.fill:
        fmt["backgroundColor"] = _color(style.fill)
    text: dict[str, Any] = {}
    if style.font_color:
        text["foregroundColor"] = _color(style.font_color)
    if style.bold:
        text["bold"] = True
    if text:
        fmt["textFormat"] = text
    return fmt


def _color(hex_color: str) -> dict[str, float]:
    h = hex_color.lstrip("#")
    return {name: round(int(h[i : i + 2], 16) / 255, 4) for name, i in (("red", 0), ("green", 2), ("blue", 4))}


def _validation(
    tab: Tab, sheet_id: int, validation: Validation, tabs_by_name: dict[str, Tab], titles: dict[str, str]
) -> dict[str, Any]:
    if not tab.rows:
        return {}
    index = tab.column_index(validation.column)
    target = _range(sheet_id, tab.first_data_row - 1, tab.first_data_row - 1 + len(tab.rows), index, index + 1)
    rule: dict[str, Any] = {"strict": True}
    if validation.kind in ("list", "growing_list"):
        rule["condition"] = {
            "type": "ONE_OF_RANGE",
            "values": [{"userEnteredValue": _source_range(validation, tab, tabs_by_name, titles)}],
        }
        rule["showCustomUi"] = True
    elif validation.kind == "positive_decimal":
        rule["condition"] = {"type": "NUMBER_GREATER", "values": [{"userEnteredValue": "0"}]}
    elif validation.kind in ("positive_whole", "us_zip"):
        cell = f"{column_letter(index)}{tab.first_data_row}"  # relative to the range's first cell
        formula = (
            f"=AND(ISNUMBER({cell}),{cell}=INT({cell}),{cell}>0)"
            if validation.kind == "positive_whole"
            else f'=REGEXMATCH(TO_TEXT({cell}),"^[0-9]{{5}}(-[0-9]{{4}})?$")'
        )
        rule["condition"] = {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]}
    elif validation.kind == "one_of":
        rule["condition"] = {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": v} for v in validation.values]}
        rule["showCustomUi"] = True
    else:
        raise RenderError(f"tab {tab.name!r}: unknown validation kind {validation.kind!r} on {validation.column!r}")
    if validation.message:
        rule["inputMessage"] = validation.message
    return {"setDataValidation": {"range": target, "rule": rule}}


def _source_range(validation: Validation, tab: Tab, tabs_by_name: dict[str, Tab], titles: dict[str, str]) -> str:
    if validation.source is None:
        raise RenderError(f"tab {tab.name!r}: list validation on {validation.column!r} has no source")
    source_name, header = validation.source
    source = tabs_by_name.get(source_name)
    if source is None:
        raise RenderError(f"tab {tab.name!r}: validation source tab {source_name!r} is not in the workbook")
    try:
        letter = column_letter(source.column_index(header))
    except KeyError:
        raise RenderError(
            f"tab {tab.name!r}: validation source column {header!r} is not in tab {source_name!r}"
        ) from None
    quoted = quote_sheet(titles.get(source_name, source_name))
    if validation.kind == "growing_list":  # open-ended: Google Sheets leaves blank cells out of a dropdown
        return f"={quoted}!${letter}${source.first_data_row}:${letter}"
    last = source.first_data_row + max(len(source.rows), 1) - 1
    return f"={quoted}!${letter}${source.first_data_row}:${letter}${last}"


def _chart(tab: Tab, sheet_id: int) -> dict[str, Any]:
    """A clustered column chart of the totals row over the chart's columns, beside the table (as in xlsx)."""
    if tab.chart is None or tab.totals_row is None or not tab.chart.columns:
        return {}
    try:
        indexes = sorted(tab.column_index(h) for h in tab.chart.columns)
    except KeyError as exc:
        raise RenderError(f"tab {tab.name!r}: chart names unknown column {exc}") from None
    header0, totals0 = tab.header_row - 1, tab.totals_row - 1
    domains = [
        {"domain": {"sourceRange": {"sources": [_range(sheet_id, header0, header0 + 1, i, i + 1) for i in indexes]}}}
    ]
    series = [
        {
            "series": {"sourceRange": {"sources": [_range(sheet_id, totals0, totals0 + 1, i, i + 1) for i in indexes]}},
            "targetAxis": "LEFT_AXIS",
        }
    ]
    spec = {
        "title": tab.chart.title,
        "basicChart": {
            "chartType": "COLUMN",
            "legendPosition": "NO_LEGEND",
            "headerCount": 0,
            "domains": domains,
            "series": series,
        },
    }
    anchor = {"sheetId": sheet_id, "rowIndex": header0, "columnIndex": len(tab.columns) - 1}
    position = {
        "overlayPosition": {"anchorCell": anchor, "offsetXPixels": 160, "widthPixels": 600, "heightPixels": 300}
    }
    return {"addChart": {"chart": {"chartId": chart_id(tab), "spec": spec, "position": position}}}


def chart_id(tab: Tab) -> int:
    """Our chart's id on the tab, from its key: a refresh replaces it and leaves charts users added."""
    return zlib.crc32(f"chart:{tab.key}".encode()) % 2_000_000_000 + 1
