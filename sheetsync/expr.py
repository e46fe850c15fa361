"""The safe expression language of report definitions: parsed here, never handed to Python eval.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := add (("==" | "!=" | "<" | "<=" | ">" | ">=") add | "in" list)?
    add     := mul (("+" | "-") mul)*
    mul     := unary (("*" | "/" | "%") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | true | false | null | list | name ("(" args ")")? | "(" expr ")"
    name    := IDENT ("." IDENT)*        (a field, `params.x`, `sources.s.Field`); `backticks` quote odd names
    list    := "[" (expr ("," expr)*)? "]"

Numbers are `Decimal` (integral literals are `int`), so money stays exact. Everything is null-safe:
arithmetic with null gives null, a comparison with null is false (except `== null` / `!= null`),
`and`/`or` treat null as false, `min`/`max` skip nulls, `concat` treats null as "". Dates: `date + n`
and `date - n` move by days, `date - date` is a number of days.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheetsync import aging
from sheetsync.suggest import did_you_mean


class ExprError(Exception):
    """A syntax or evaluation error; `position` is the 0-based offset in the expression text."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


Env = Callable[[tuple[str, ...]], Any]  # resolves a dotted name to a value

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<quoted>`[^`]+`)
    | (?P<op>==|!=|<=|>=|[-+*/%<>(),.\[\]])
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            offset = len(text[pos:]) - len(text[pos:].lstrip())
            raise ExprError(f"unexpected character {text[pos + offset]!r}", pos + offset)
        kind = match.lastgroup or "op"
        value = match.group(kind)
        start = match.start(kind)
        if kind == "quoted":
            kind, value = "name", value[1:-1]
        tokens.append(Token(kind, value, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------- values


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


# ---------------------------------------------------------------- functions


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


# ---------------------------------------------------------------- parser


@dataclass
class Expr:
    """A compiled expression: call `evaluate(env)`; `names` lists the dotted names it reads."""

    text: str
    _fn: Callable[[Env], Any]
    names: set[tuple[str, ...]] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    top_call: tuple[str, list[Expr]] | None = None  # the outermost call, for aggregates

    def evaluate(self, env: Env | Mapping[str, Any]) -> Any:
        resolver = env if callable(env) else mapping_env(env)
        try:
            return self._fn(resolver)
        except ExprError:
            raise
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ExprError(f"in {self.text!r}: {exc}") from exc


def mapping_env(values: Mapping[str, Any]) -> Env:
    """An env over a (possibly nested) mapping: `a.b` reads values["a"]["b"]; a missing name is null."""

    def resolve(path: tuple[str, ...]) -> Any:
        value: Any = values
        for part in path:
            if isinstance(value, Mapping):
                value = value.get(part)
            else:
                return None
            if value is None:
                return None
        return value

    return resolve


class _Parser:
    def __init__(self, text: str, aggregates: bool) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.names: set[tuple[str, ...]] = set()
        self.calls: set[str] = set()
        self.aggregates = aggregates

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        if self.tok.kind in ("op", "name") and self.tok.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(f"expected {text!r}")

    def fail(self, message: str) -> None:
        tok = self.tok
        found = "end of expression" if tok.kind == "end" else repr(tok.text)
        raise ExprError(f"{message} at position {tok.pos + 1}, found {found}", tok.pos)

    def parse(self) -> Callable[[Env], Any]:
        if self.tok.kind == "end":
            raise ExprError("empty expression", 0)
        fn = self.parse_or()
        if self.tok.kind != "end":
            self.fail("unexpected text")
        return fn

    def parse_or(self) -> Callable[[Env], Any]:
        left = self.parse_and()
        while self.accept("or"):
            right = self.parse_and()
            left = (lambda lf, rf: lambda env: truthy(lf(env)) or truthy(rf(env)))(left, right)
        return left

    def parse_and(self) -> Callable[[Env], Any]:
        left = self.parse_not()
        while self.accept("and"):
            right = self.parse_not()
            left = (lambda lf, rf: lambda env: truthy(lf(env)) and truthy(rf(env)))(left, right)
        return left

    def parse_not(self) -> Callable[[Env], Any]:
        if self.accept("not"):
            inner = self.parse_not()
            return lambda env: not truthy(inner(env))
        return self.parse_cmp()

    def parse_cmp(self) -> Callable[[Env], Any]:
        left = self.parse_add()
        tok = self.tok
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.parse_add()
            return lambda env: _compare(tok.text, left(env), right(env))
        if self.accept("in"):
            right = self.parse_add()

            def is_in(env: Env) -> bool:
                value, options = left(env), right(env)
                return value is not None and any(_compare("==", value, o) for o in options or ())

            return is_in
        return left

    def parse_add(self) -> Callable[[Env], Any]:
        left = self.parse_mul()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.take().text
            right = self.parse_mul()
            left = (lambda lf, rf, o: lambda env: _arith(o, lf(env), rf(env)))(left, right, op)
        return left

    def parse_mul(self) -> Callable[[Env], Any]:
        left = self.parse_unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            op = self.take().text
            right = self.parse_unary()
            left = (lambda lf, rf, o: lambda env: _arith(o, lf(env), rf(env)))(left, right, op)
        return left

    def parse_unary(self) -> Callable[[Env], Any]:
        if self.tok.kind == "op" and self.tok.text == "-":
            self.take()
            inner = self.parse_unary()
            return lambda env: _arith("*", inner(env), -1)
        return self.parse_atom()

    def parse_atom(self) -> Callable[[Env], Any]:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            value: Any = Decimal(tok.text) if "." in tok.text else int(tok.text)
            return lambda env: value
        if tok.kind == "string":
            self.take()
            text = re.sub(r"\\(.)", r"\1", tok.text[1:-1])
            return lambda env: text
        if self.accept("("):
            inner = self.parse_or()
            self.expect(")")
            return inner
        if self.accept("["):
            items = self.parse_args("]")
            return lambda env: [f(env) for f in items]
        if tok.kind == "name":
            return self.parse_name()
        self.fail("expected a value")
        raise AssertionError  # unreachable

    def parse_name(self) -> Callable[[Env], Any]:
        tok = self.take()
        constants = {"true": True, "false": False, "null": None}
        if tok.text in constants:
            constant = constants[tok.text]
            return lambda env: constant
        if tok.text in KEYWORDS:
            self.i -= 1
            self.fail("expected a value")
        if self.tok.kind == "op" and self.tok.text == "(":
            return self.parse_call(tok)
        path = [tok.text]
        while self.tok.kind == "op" and self.tok.text == ".":
            self.take()
            if self.tok.kind != "name":
                self.fail("expected a name after '.'")
            path.append(self.take().text)
        key = tuple(path)
        self.names.add(key)
        return lambda env: env(key)

    def parse_call(self, tok: Token) -> Callable[[Env], Any]:
        name = tok.text
        self.take()  # "("
        args = self.parse_args(")")
        self.calls.add(name)
        if name in ("today", "now"):
            self._check_arity(tok, FUNCTIONS[name], len(args))
            return lambda env: env(("__" + name,)) or FUNCTIONS[name].fn()
        spec = FUNCTIONS.get(name)
        if spec is None:
            if self.aggregates and name in AGGREGATES:
                return lambda env: None  # evaluated by transform.group, never row by row
            known = sorted(set(FUNCTIONS) | (set(AGGREGATES) if self.aggregates else set()))
            hint = did_you_mean(name, known, quote="")
            raise ExprError(f"unknown function {name}(){hint}", tok.pos)
        self._check_arity(tok, spec, len(args))
        if spec.lazy:
            return lambda env: spec.fn(*[(lambda f: lambda: f(env))(a) for a in args])
        return lambda env: spec.fn(*[a(env) for a in args])

    def _check_arity(self, tok: Token, spec: Function, n: int) -> None:
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            want = (
                str(spec.min_args)
                if spec.min_args == spec.max_args
                else (f"{spec.min_args} or more" if spec.max_args is None else f"{spec.min_args} to {spec.max_args}")
            )
            raise ExprError(f"{tok.text}() takes {want} argument(s), got {n}", tok.pos)

    def parse_args(self, close: str) -> list[Callable[[Env], Any]]:
        args: list[Callable[[Env], Any]] = []
        if self.accept(close):
            return args
        while True:
            args.append(self.parse_or())
            if self.accept(close):
                return args
            self.expect(",")


def compile_expr(text: str, *, aggregates: bool = False) -> Expr:
    """Parse `text`; raise ExprError on a syntax error. With `aggregates`, sum(x) and friends parse."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be text, not {type(text).__name__}")
    parser = _Parser(text, aggregates)
    fn = parser.parse()
    top = _top_call(text, aggregates) if aggregates else None
    return Expr(text, fn, parser.names, parser.calls, top)


def _top_call(text: str, aggregates: bool) -> tuple[str, list[Expr]] | None:
    """For `sum(Amount * 2)`: ("sum", [Expr("Amount * 2")]); None when the text is not one call."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*", text, re.DOTALL)
    if not match or match.group(1) not in AGGREGATES:
        return None
    inner = match.group(2).strip()
    if not inner:
        return match.group(1), []
    parts = _split_args(inner)
    return match.group(1), [compile_expr(p) for p in parts]


def _split_args(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    quote: str | None = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


# ---------------------------------------------------------------- templates

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@dataclass
class Template:
    """A string with `{{ expr }}` parts. A string that is exactly one `{{ expr }}` keeps the value's type."""

    text: str
    parts: list[str | Expr]

    @property
    def exprs(self) -> list[Expr]:
        return [p for p in self.parts if isinstance(p, Expr)]

    @property
    def is_single(self) -> bool:
        return len(self.parts) == 1 and isinstance(self.parts[0], Expr)

    def render(self, env: Env | Mapping[str, Any]) -> Any:
        if self.is_single:
            return self.parts[0].evaluate(env)  # type: ignore[union-attr]
        return "".join(p if isinstance(p, str) else (_text(p.evaluate(env)) or "") for p in self.parts)


def compile_template(text: str) -> Template:
    parts: list[str | Expr] = []
    pos = 0
    for match in _TEMPLATE.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        try:
            parts.append(compile_expr(match.group(1).strip()))
        except ExprError as exc:
            raise ExprError(f"in {{{{ {match.group(1).strip()} }}}}: {exc.message}", exc.position) from exc
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    if "{{" in "".join(p for p in parts if isinstance(p, str)):
        raise ExprError("unclosed {{ in template")
    return Template(text, parts or [""])


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value
