"""Typing of KSS records: nothing becomes float, codes stay strings, unknown fields are kept.

``loads(text)`` parses JSON with ``parse_float=Decimal``. ``type_record(record)`` types one record
(recursively into nested lists and objects such as arAging's ``Invoices_1_30``):

- fields documented as money/quantity (``fields.FIELD_KINDS == "decimal"``): decimal strings,
  integer-looking strings (``"TotalCases": "30"``) and JSON numbers -> ``Decimal``;
- documented IDs -> ``int`` (also from digit strings of at most 15 digits; a longer one, a reference or
  tracking number, stays text); booleans from ``"true"``/``"false"``;
- calendar dates (``fields.field_kind == "date"``: DueDate, CloseDate, PostDate, ...) -> ``date``: the UTC
  calendar date of the timestamp KSS writes (``2026-01-25T08:00:00.000Z`` and ``2026-01-25T00:00:00.000Z``
  are both 2026-01-25), so no time zone can move them to another day. This is the one place that rule lives;
- instants (TimeUpdated, TimeCreated, ...) and other timestamps -> timezone-aware ``datetime`` (UTC);
  ``YYYY-MM-DD`` -> ``date``;
- documented strings stay strings (``DeliveryDays "1"``, ``PostalCode "0042"``);
- undocumented fields are typed by shape only: timestamps, dates and decimal strings with a point
  (``"5.60"``); integer-looking strings stay strings, because they may be codes.

A value that does not fit its documented kind is kept as it came rather than failing the record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sheetsync.apis.fields import field_kind

Converter = Callable[[Any], Any]
MAX_ID_DIGITS = 15  # a digit string longer than this stays text: spreadsheets keep 15 digits of a number
_DECIMAL = re.compile(r"[-+]?\d+\.\d+")
_INTEGER = re.compile(r"[-+]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def loads(text: str | bytes) -> Any:
    """JSON with every non-integer number as Decimal."""
    return json.loads(text, parse_float=Decimal)


def type_record(record: Any, endpoint: str | None = None) -> Any:
    """A typed copy of one record of `endpoint` (a registry key such as "invoices"; dicts and lists
    recursively); other values returned unchanged."""
    if isinstance(record, dict):
        converters = _converters_of(endpoint)
        typed = {}
        for name, value in record.items():
            converter = converters[name]
            keep = value is None or (converter is None and type(value) is str)
            typed[name] = value if keep else _typed(converter, value, endpoint)
        return typed
    if isinstance(record, list):
        return [type_record(item, endpoint) for item in record]
    return record


def type_value(name: str, value: Any, endpoint: str | None = None) -> Any:
    """The typed value of field `name` of a record of `endpoint`."""
    return _typed(_converters_of(endpoint)[name], value, endpoint)


def _typed(converter: Converter | None, value: Any, endpoint: str | None) -> Any:
    if value is None or value is True or value is False:
        return value
    if isinstance(value, dict | list):
        return type_record(value, endpoint)
    if converter is None:  # a documented string
        return value
    try:
        return converter(value)
    except (ValueError, InvalidOperation, TypeError):
        return value


class _Converters(dict[str, "Converter | None"]):
    """Field name -> its converter for one endpoint, worked out once per name (None: kept as it is)."""

    def __init__(self, endpoint: str | None) -> None:
        super().__init__()
        self.endpoint = endpoint

    def __missing__(self, name: str) -> Converter | None:
        kind = field_kind(name, self.endpoint)
        converter = None if kind == "str" else _CONVERTERS.get(kind or "", _by_shape)
        self[name] = converter
        return converter


_BY_ENDPOINT: dict[str | None, _Converters] = {}


def _converters_of(endpoint: str | None) -> _Converters:
    found = _BY_ENDPOINT.get(endpoint)
    if found is None:
        found = _BY_ENDPOINT.setdefault(endpoint, _Converters(endpoint))
    return found


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware datetime (naive ones are taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal(value: Any) -> Any:
    if type(value) is Decimal:
        return value
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):  # cannot happen with loads(); kept exact via its repr
        return Decimal(repr(value))
    if isinstance(value, str) and (_DECIMAL.fullmatch(value.strip()) or _INTEGER.fullmatch(value.strip())):
        return Decimal(value.strip())
    return value


def _int(value: Any) -> Any:
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    text = value.strip() if isinstance(value, str) else ""
    if _INTEGER.fullmatch(text) and len(text.lstrip("+-")) <= MAX_ID_DIGITS:
        return int(text)
    return value  # a longer digit string is an identifier (a reference, a tracking number): kept as text


def _bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _temporal(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _DATE.fullmatch(text):
        return date.fromisoformat(text)
    if _TIMESTAMP.fullmatch(text):
        return parse_timestamp(text)
    return value


def calendar_date(value: Any) -> Any:
    """The calendar date a KSS date field denotes: the UTC date of its timestamp (or the date itself)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date) or not isinstance(value, str):
        return value
    moment = _temporal(value)
    return calendar_date(moment) if isinstance(moment, date) else value


def _keep(value: Any) -> Any:
    return value


def _by_shape(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if _TIMESTAMP.fullmatch(text) or _DATE.fullmatch(text):
            return _temporal(text)
        if _DECIMAL.fullmatch(text):
            return Decimal(text)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


_CONVERTERS: dict[str, Converter] = {
    "decimal": _decimal,
    "int": _int,
    "bool": _bool,
    "datetime": _temporal,
    "date": calendar_date,
    "str": _keep,
}
