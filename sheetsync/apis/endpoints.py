"""What one documented endpoint is (``Endpoint``, ``Param``) and how parameter values become query text.

The tables of both APIs' endpoints, and their lookups, are in ``registry.py``.

``Endpoint.encode_params(params, raw_params=None) -> list[(name, text)]`` validates and encodes
Python values (lists, int, str, date, bool, Decimal) to query text: lists comma-separated with
literal commas, dates ISO 8601, booleans ``true``/``false``. An unknown or mistyped parameter raises
``ParameterError`` naming it, the allowed ones and a did-you-mean; ``raw_params`` pass through as given.
``Endpoint.check_key_type(key_type)`` raises ``ForbiddenError`` for the "Not available to" markers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sheetsync.errors import ForbiddenError, ParameterError
from sheetsync.suggest import did_you_mean

KEY_TYPES = ("employee", "customer", "supplier")
PARAM_TYPES = ("number[]", "string[]", "boolean[]", "number", "string", "boolean", "date")
TYPE_HINTS = {
    "number[]": "a number or a list of numbers, e.g. 1,2,3",
    "string[]": "a string or a list of strings, e.g. CA,NJ",
    "boolean[]": "true/false or a list of them",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "date": "a date, YYYY-MM-DD",
}


@dataclass(frozen=True)
class Param:
    """One documented query or path parameter."""

    name: str
    type: str
    required: bool = False
    location: str = "query"  # "query" or "path"

    def encode(self, value: Any, endpoint: str) -> str:
        """The query text for a Python value (or its CLI text); ParameterError when it does not fit."""
        try:
            return _ENCODERS[self.type](value)
        except (TypeError, ValueError, InvalidOperation):
            raise ParameterError(
                f"{endpoint}: parameter {self.name} expects {TYPE_HINTS[self.type]}, got {value!r}"
            ) from None


@dataclass(frozen=True)
class Endpoint:
    """One documented endpoint. `fields` are the documented fields of one record (any may be absent)."""

    name: str
    path: str
    method: str
    key_types: tuple[str, ...]
    params: dict[str, Param]
    paginated: bool
    fields: tuple[str, ...]
    single: bool
    revision: str = "2025"
    path_params: tuple[str, ...] = field(default=())
    api: str = "kss"  # "kss" or "kotis"
    host: str = ""  # Kotis: "kwf" (kwf.kotisdesign.com) or "stores" (stores.kotisdesign.com)

    @property
    def key(self) -> str:
        return self.name if self.method == "GET" else f"{self.method} {self.name}"

    def check_key_type(self, key_type: str) -> None:
        if key_type not in self.key_types:
            raise ForbiddenError(
                f"{self.method} /{self.name} is not available to {key_type.capitalize()} keys "
                f"(allowed: {', '.join(self.key_types)})",
                endpoint=self.name,
                status=403,
            )

    def url_path(self, path_values: Mapping[str, Any] | None = None) -> str:
        """The concrete path, path parameters filled in (validated as numbers)."""
        values = dict(path_values or {})
        missing = [p for p in self.path_params if p not in values]
        if missing:
            raise ParameterError(f"{self.name}: path parameter {missing[0]} is required")
        path = self.path
        for name in self.path_params:
            text = _number(values[name])
            path = path.replace("{" + name + "}", text)
        return path

    def encode_params(
        self,
        params: Mapping[str, Any] | None,
        raw_params: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Validate and encode documented parameters (None values dropped), then append raw ones."""
        pairs: list[tuple[str, str]] = []
        given = {k: v for k, v in (params or {}).items() if v is not None}
        for name, value in given.items():
            param = self.params.get(name) or self._unknown(name)
            pairs.append((name, param.encode(value, self.name)))
        for param in self.params.values():
            if param.required and param.name not in given and param.name not in (raw_params or {}):
                raise ParameterError(f"{self.name}: parameter {param.name} is required ({TYPE_HINTS[param.type]})")
        for name, value in (raw_params or {}).items():
            pairs.append((str(name), _raw(value)))
        return pairs

    def _unknown(self, name: str) -> Param:
        allowed = list(self.params)
        hint = did_you_mean(name, allowed, quote="")  # also a case-insensitive match ("customerids")
        listed = ", ".join(allowed) if allowed else "none"
        raise ParameterError(f"{self.name}: unknown parameter {name!r}{hint}; allowed: {listed}")


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        return list(value)
    return [value]


def _number(value: Any) -> str:
    if isinstance(value, bool | float):
        raise TypeError("not a number (use int or Decimal)")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | str):
        number = Decimal(str(value).strip())
        if not number.is_finite() or abs(number.adjusted()) > 30:  # NaN, Infinity, 1e999999
            raise ValueError("not a finite number of sensible size")
        return format(number, "f")
    raise TypeError(type(value).__name__)


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _boolean(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower()
    raise ValueError("not a boolean")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return date.fromisoformat(value.strip()).isoformat()
    raise TypeError(type(value).__name__)


def _list_of(encode: Any) -> Any:
    def encode_list(value: Any) -> str:
        texts = [encode(item) for item in _items(value)]
        if not texts or any("," in t or not t for t in texts):
            raise ValueError("empty list or an item with a comma")
        return ",".join(texts)

    return encode_list


_ENCODERS = {
    "number[]": _list_of(_number),
    "string[]": _list_of(_string),
    "boolean[]": _list_of(_boolean),
    "number": _number,
    "string": _string,
    "boolean": _boolean,
    "date": _date,
}


def _raw(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ",".join(_raw(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
