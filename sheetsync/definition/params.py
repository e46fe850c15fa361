"""Report parameters: CLI text or YAML values -> typed values, checked against each parameter's type."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from sheetsync.errors import ParameterError
from sheetsync.suggest import did_you_mean

if TYPE_CHECKING:
    from sheetsync.definition.models import Definition

PARAM_TYPES = ("int", "int_list", "str", "str_list", "date", "decimal", "bool")
_WANT = {
    "int": "a whole number",
    "int_list": "whole numbers separated by commas, e.g. 1,2,3",
    "str_list": "text values separated by commas",
    "date": "a date YYYY-MM-DD or 'today'",
    "decimal": "a finite number of at most 30 digits (not NaN, Infinity or an exponent like 1e999999)",
    "bool": "true or false",
    "str": "text",
}


class _Param(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...


def coerce_param(spec: _Param, raw: Any, *, today: date | None = None) -> Any:
    """A parameter's typed value from CLI text or a YAML value; ParameterError when it does not fit."""
    if raw is None:
        return None
    kind = spec.type
    try:
        if kind.endswith("_list"):
            items = raw if isinstance(raw, list) else [p for p in str(raw).split(",") if p.strip()]
            item_kind = kind.removesuffix("_list")
            return [_coerce_one(item_kind, item, today) for item in items]
        return _coerce_one(kind, raw, today)
    except (ValueError, InvalidOperation, TypeError):
        raise ParameterError(f"parameter {spec.name} expects {_WANT[kind]}, got {raw!r}") from None


def _coerce_one(kind: str, raw: Any, today: date | None) -> Any:
    if kind == "int":
        if isinstance(raw, bool) or (isinstance(raw, float | Decimal) and raw != int(raw)):
            raise ValueError(raw)
        return int(str(raw).strip())
    if kind == "decimal":
        if isinstance(raw, bool):
            raise ValueError(raw)
        return _finite(Decimal(str(raw).strip()))
    if kind == "date":
        return _date(raw, today)
    if kind == "bool":
        return _bool(raw)
    text = str(raw).strip()
    if not text:
        raise ValueError(raw)
    return text


MAX_DIGITS = 30  # a parameter goes into formulas, titles and queries: no NaN, no 1e999999


def _finite(number: Decimal) -> Decimal:
    """`number` when it is finite and of a sensible size; ValueError otherwise."""
    if not number.is_finite() or abs(number.adjusted()) > MAX_DIGITS:
        raise ValueError(number)
    return number


def _date(raw: Any, today: date | None) -> date:
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if text == "today":
        return today or date.today()
    return date.fromisoformat(text)


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(raw)


def resolve_params(
    definition: Definition,
    given: Mapping[str, Any],
    *,
    today: date | None = None,
    missing_hint: str = "add -p {name}=VALUE",
) -> dict[str, Any]:
    """Typed values of every parameter: given ones, then defaults; refuse unknown and missing ones
    (`missing_hint` tells where the caller's user gives one, e.g. a schedule file's params)."""
    for name in given:
        if name not in definition.params:
            known = ", ".join(definition.params) or "none"
            raise ParameterError(
                f"report {definition.name} has no parameter '{name}'"
                f"{did_you_mean(name, definition.params)} (parameters: {known})"
            )
    values: dict[str, Any] = {}
    for name, spec in definition.params.items():
        raw = given.get(name, spec.default)
        if raw is None and spec.required:
            hint = missing_hint.format(name=name)
            raise ParameterError(f"report {definition.name} needs parameter {name} ({spec.type}): {hint}")
        values[name] = coerce_param(spec, raw, today=today)
    return values
