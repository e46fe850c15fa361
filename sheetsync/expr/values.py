"""Values of the expression language: Decimal arithmetic, null-safe comparison, truthiness, text.

Numbers are `Decimal` (integral literals are `int`), so money stays exact. Arithmetic with null gives
null, a comparison with null is false (except `== null` / `!= null`); `date + n` and `date - n` move by
days, `date - date` is a number of days; division by zero is null.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any


class ExprError(Exception):
    """A syntax or evaluation error; `position` is the 0-based offset in the expression text."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


Env = Callable[[tuple[str, ...]], Any]  # resolves a dotted name to a value


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None if value is None else Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return None if math.isnan(value) else Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
    return None


def _num(value: Any) -> Any:
    """Normalise a number for arithmetic: ints stay ints, other numbers become Decimal."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float | str):
        number = to_decimal(value)
        return value if number is None else number
    return value


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _arith(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, date | datetime):
        if op in "+-" and isinstance(b, int | Decimal | float) and not isinstance(b, bool):
            days = timedelta(days=float(b))
            return a + days if op == "+" else a - days
        if op == "-" and isinstance(b, date | datetime):
            return (_as_date(a) - _as_date(b)).days  # type: ignore[operator]
        raise ExprError(f"cannot apply {op} to a date and {type(b).__name__}")
    x, y = _num(a), _num(b)
    if not isinstance(x, int | Decimal) or not isinstance(y, int | Decimal):
        raise ExprError(f"cannot apply {op} to {type(a).__name__} and {type(b).__name__}")
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return None  # division by zero is null, so a report shows a blank rather than failing
    if op == "/":
        result = Decimal(x) / Decimal(y)
        return result
    return Decimal(x) % Decimal(y)


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return to_decimal(a), to_decimal(b)
    if isinstance(a, datetime) != isinstance(b, datetime) and isinstance(a, date) and isinstance(b, date):
        return _as_date(a), _as_date(b)
    return a, b


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        if a is None or b is None:
            return a is None and b is None
        x, y = _comparable(a, b)
        return bool(x == y)
    if op == "!=":
        return not _compare("==", a, b)
    if a is None or b is None:
        return False
    x, y = _comparable(a, b)
    try:
        if op == "<":
            return bool(x < y)
        if op == "<=":
            return bool(x <= y)
        if op == ">":
            return bool(x > y)
        return bool(x >= y)
    except TypeError as exc:
        raise ExprError(f"cannot compare {type(a).__name__} with {type(b).__name__}") from exc


def truthy(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value != ""
    return bool(value)


def _text(x: Any) -> str | None:
    if x is None:
        return None
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, datetime | date):
        return x.isoformat()
    if isinstance(x, Decimal):
        return format(x.normalize(), "f") if x == x.to_integral_value() else format(x, "f")
    return str(x)
