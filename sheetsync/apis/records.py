"""Typing of KSS records: nothing becomes float, codes stay strings, unknown fields are kept.

``loads(text)`` parses JSON with ``parse_float=Decimal``. ``type_record(record)`` types one record
(recursively into nested lists and objects such as arAging's ``Invoices_1_30``):

- fields documented as money/quantity (``registry.FIELD_KINDS == "decimal"``): decimal strings,
  integer-looking strings (``"TotalCases": "30"``) and JSON numbers -> ``Decimal``;
- documented IDs -> ``int`` (also from digit strings); booleans from ``"true"``/``"false"``;
- timestamps (``2025-01-15T10:00:00.000Z``) -> timezone-aware ``datetime``; ``YYYY-MM-DD`` -> ``date``;
- documented strings stay strings (``DeliveryDays "1"``, ``PostalCode "0042"``);
- undocumented fields are typed by shape only: timestamps, dates and decimal strings with a point
  (``"5.60"``); integer-looking strings stay strings, because they may be codes.

A value that does not fit its documented kind is kept as it came rather than failing the record.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sheetsync.apis.registry import FIELD_KINDS

_DECIMAL = re.compile(r"[-+]?\d+\.\d+")
_INTEGER = re.compile(r"[-+]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def loads(text: str | bytes) -> Any:
    """JSON with every non-integer number as Decimal."""
    return json.loads(text, parse_float=Decimal)


def type_record(record: Any) -> Any:
    """A typed copy of one record (dicts and lists recursively); other values returned unchanged."""
    if isinstance(record, dict):
        return {name: type_value(name, value) for name, value in record.items()}
    if isinstance(record, list):
        return [type_record(item) for item in record]
    return record


def type_value(name: str, value: Any) -> Any:
    """The typed value of field `name`."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict | list):
        return type_record(value)
    kind = FIELD_KINDS.get(name)
    converter = _CONVERTERS.get(kind or "", _by_shape)
    try:
        return converter(value)
    except (ValueError, InvalidOperation, TypeError):
        return value


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp as an aware datetime (naive ones are taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal(value: Any) -> Any:
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
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return value


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


_CONVERTERS = {
    "decimal": _decimal,
    "int": _int,
    "bool": _bool,
    "datetime": _temporal,
    "date": _temporal,
    "str": _keep,
}
