"""The function table of the expression language: name -> implementation and arity; the aggregates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheetsync import aging
from sheetsync.expr.values import ExprError, _arith, _as_date, _comparable, _num, _text, to_decimal, truthy


def _round(x: Any, places: Any = 0) -> Any:
    d = to_decimal(x)
    if d is None:
        return None
    p = int(places or 0)
    result = d.quantize(Decimal(1).scaleb(-p), rounding=ROUND_HALF_UP)
    return int(result) if p == 0 else result


def _ceil(x: Any) -> int | None:
    d = to_decimal(x)
    return None if d is None else int(d.to_integral_value(rounding=ROUND_CEILING))


def _floor(x: Any) -> int | None:
    d = to_decimal(x)
    return None if d is None else int(d.to_integral_value(rounding=ROUND_FLOOR))


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        values = [_num(a) for a in args if a is not None]
        if not values:
            return None
        try:
            return pick(values, key=lambda v: _comparable(v, v)[0])
        except TypeError as exc:
            raise ExprError("min/max of values that cannot be compared") from exc

    return fn


def _coalesce(*args: Any) -> Any:
    return next((a for a in args if a is not None and a != ""), None)


def _money(x: Any, symbol: Any = "$") -> str | None:
    """A money amount as text for titles and header lines: money(-1234.5) -> "-$1,234.50"."""
    d = to_decimal(x)
    if d is None:
        return None
    cents = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{'-' if cents < 0 else ''}{symbol if symbol is not None else ''}{abs(cents):,.2f}"


def _concat(*args: Any) -> str:
    return "".join(_text(a) or "" for a in args)


def _days_between(a: Any, b: Any) -> int | None:
    x, y = _as_date(a), _as_date(b)
    return None if x is None or y is None else (y - x).days


def _local_date(value: Any, tz: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or not tz:
            return value.date()
        try:
            return value.astimezone(ZoneInfo(str(tz))).date()
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ExprError(f"unknown time zone {tz!r}") from exc
    return _as_date(value)


def _days_past_due(due: Any, as_of: Any) -> int | None:
    x, y = _as_date(due), _as_date(as_of)
    return None if x is None or y is None else aging.days_past_due(x, y)


def _aging_bucket(due: Any, as_of: Any) -> str | None:
    days = _days_past_due(due, as_of)
    return None if days is None else aging.bucket(days)


def _add_days(d: Any, n: Any) -> Any:
    return _arith("+", d, n)


def _str_fn(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(s: Any, *args: Any) -> Any:
        return None if s is None else fn(_text(s), *args)

    return wrapped


def _substr(s: str, start: Any, length: Any = None) -> str:
    i = int(start)
    return s[i:] if length is None else s[i : i + int(length)]


def _number(x: Any) -> Decimal | None:
    return to_decimal(x)


def _int(x: Any) -> int | None:
    d = to_decimal(x)
    return None if d is None else int(d)


def _len(x: Any) -> int | None:
    if x is None:
        return None
    return len(x) if isinstance(x, str | list | tuple) else len(_text(x) or "")


def _contains(s: Any, part: Any) -> bool:
    if s is None or part is None:
        return False
    if isinstance(s, list | tuple):
        return part in s
    return str(part).lower() in str(s).lower()


def _split(s: Any, sep: Any = ",") -> list[str] | None:
    return None if s is None else [p.strip() for p in str(s).split(str(sep)) if p.strip()]


def _join(items: Any, sep: Any = ", ") -> str | None:
    if items is None:
        return None
    return str(sep).join(_text(i) or "" for i in items if i is not None)


def _year(d: Any) -> int | None:
    x = _as_date(d)
    return None if x is None else x.year


def _month(d: Any) -> int | None:
    x = _as_date(d)
    return None if x is None else x.month


@dataclass(frozen=True)
class Function:
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: any number
    lazy: bool = False  # `if` gets unevaluated thunks


FUNCTIONS: dict[str, Function] = {
    "if": Function(lambda c, a, b=lambda: None: a() if truthy(c()) else b(), 2, 3, lazy=True),
    "ceil": Function(_ceil, 1, 1),
    "floor": Function(_floor, 1, 1),
    "round": Function(_round, 1, 2),
    "min": Function(_minmax(min), 1, None),
    "max": Function(_minmax(max), 1, None),
    "abs": Function(lambda x: None if to_decimal(x) is None else abs(_num(x)), 1, 1),
    "coalesce": Function(_coalesce, 1, None),
    "concat": Function(_concat, 1, None),
    "money": Function(_money, 1, 2),
    "text": Function(_text, 1, 1),
    "number": Function(_number, 1, 1),
    "int": Function(_int, 1, 1),
    "date": Function(_as_date, 1, 1),
    "local_date": Function(_local_date, 2, 2),
    "days_between": Function(_days_between, 2, 2),
    "add_days": Function(_add_days, 2, 2),
    "days_past_due": Function(_days_past_due, 2, 2),  # sheetsync.aging: the one aging rule
    "aging_bucket": Function(_aging_bucket, 2, 2),
    "year": Function(_year, 1, 1),
    "month": Function(_month, 1, 1),
    "upper": Function(_str_fn(str.upper), 1, 1),
    "lower": Function(_str_fn(str.lower), 1, 1),
    "trim": Function(_str_fn(str.strip), 1, 1),
    "replace": Function(_str_fn(lambda s, a, b: s.replace(str(a), str(b))), 3, 3),
    "substr": Function(_str_fn(_substr), 2, 3),
    "startswith": Function(lambda s, p: s is not None and str(s).startswith(str(p)), 2, 2),
    "endswith": Function(lambda s, p: s is not None and str(s).endswith(str(p)), 2, 2),
    "contains": Function(_contains, 2, 2),
    "len": Function(_len, 1, 1),
    "split": Function(_split, 1, 2),
    "join": Function(_join, 1, 2),
    "is_null": Function(lambda x: x is None, 1, 1),
    "blank": Function(lambda x: x is None or (isinstance(x, str) and x.strip() == ""), 1, 1),
    # `today()` and `now()` are answered by the evaluation context, so a run uses one clock
    "today": Function(lambda: date.today(), 0, 0),
    "now": Function(lambda: datetime.now().astimezone(), 0, 0),
}

AGGREGATES = ("sum", "count", "average", "min", "max", "first", "last", "count_distinct", "list", "join")
