"""Expression text -> a compiled `Expr`, through Python's own parser and an allow-list of node types.

`ast.parse(..., mode="eval")` reads the rewritten source (`source.py`); every node is then looked up
in `_NODES` and every operator in the operator tables, the way simpleeval works: a node type that is
not listed (attribute calls, subscripts, lambdas, comprehensions, `**`, `is`, ...) is refused with its
position. Nothing is ever handed to Python's eval: each node becomes a closure over an `Env`.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sheetsync.expr.functions import AGGREGATES, FUNCTIONS, Function
from sheetsync.expr.source import Source, rewrite
from sheetsync.expr.values import Env, ExprError, _arith, _compare, truthy
from sheetsync.suggest import did_you_mean

Compiled = Callable[[Env], Any]
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
_ARITHMETIC: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
_COMPARISONS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass
class Expr:
    """A compiled expression: call `evaluate(env)`; `names` lists the dotted names it reads."""

    text: str
    _fn: Compiled
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
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
            if value is None:
                return None
        return value

    return resolve


def compile_expr(text: str, *, aggregates: bool = False) -> Expr:
    """Parse `text`; raise ExprError on a syntax error. With `aggregates`, sum(x) and friends parse."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be text, not {type(text).__name__}")
    if not text.strip():
        raise ExprError("empty expression", 0)
    source = rewrite(text)
    tree = _parse(source)
    compiler = _Compiler(source, aggregates)
    fn = compiler.visit(tree.body)
    top = compiler.top_call(tree.body) if aggregates else None
    return Expr(text, fn, compiler.names, compiler.calls, top)


def _parse(source: Source) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid decimal literal": the allow-list answers instead
            return ast.parse(source.python, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None


def _syntax_error(source: Source, exc: SyntaxError) -> ExprError:
    end = len(source.text)
    at_end = not exc.offset or not source.python[exc.offset - 1 :].strip()
    if exc.msg.endswith("was never closed"):
        closing = {"(": ")", "[": "]"}.get(exc.msg[1], ")")
        return ExprError(f"expected {closing!r} at position {end + 1}, found end of expression", end)
    if at_end:
        return ExprError(f"expected a value at position {end + 1}, found end of expression", end)
    pos = source.position((exc.offset or 1) - 1)
    found = source.text[pos:].split()[0] if source.text[pos:].strip() else source.text[pos]
    return ExprError(f"unexpected text at position {pos + 1}, found {found!r}", pos)


class _Compiler:
    """Turns allowed nodes into closures; collects the names read and the functions called."""

    def __init__(self, source: Source, aggregates: bool) -> None:
        self.source = source
        self.aggregates = aggregates
        self.names: set[tuple[str, ...]] = set()
        self.calls: set[str] = set()

    def visit(self, node: ast.AST) -> Compiled:
        visitor = _NODES.get(type(node))
        if visitor is None:
            raise self.refuse(node, f"{_describe(node)} is not part of the expression language")
        return visitor(self, node)

    def refuse(self, node: ast.AST, message: str) -> ExprError:
        pos = self.source.position(getattr(node, "col_offset", 0))
        return ExprError(f"{message} (at position {pos + 1})", pos)

    def text_of(self, node: ast.AST) -> str:
        start = self.source.position(getattr(node, "col_offset", 0))
        end = self.source.position(max(getattr(node, "end_col_offset", 1) - 1, 0)) + 1
        return self.source.text[start:end]

    # -- leaves
    def constant(self, node: ast.Constant) -> Compiled:
        literal = ast.get_source_segment(self.source.python, node) or ""
        if not isinstance(node.value, int | float) or isinstance(node.value, bool) or not _NUMBER.fullmatch(literal):
            raise self.refuse(
                node, f"{literal or repr(node.value)} is not a number of the language (write 1000 or 12.5)"
            )
        value: int | Decimal = Decimal(literal) if "." in literal else int(literal)  # exact, never via float
        return lambda env: value

    def name(self, node: ast.Name) -> Compiled:
        if node.id in self.source.strings:
            text = self.source.strings[node.id]
            return lambda env: text
        if node.id in _CONSTANTS:
            constant = _CONSTANTS[node.id]
            return lambda env: constant
        return self.path((self.spelled(node.id),))

    def attribute(self, node: ast.Attribute) -> Compiled:
        parts: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            parts.insert(0, self.spelled(current.attr))
            current = current.value
        between = self.source.python[current.end_col_offset : node.end_col_offset] if current.end_col_offset else ""
        if (
            not isinstance(current, ast.Name)
            or current.id in self.source.strings
            or current.id in _CONSTANTS
            or ")" in between
        ):
            raise self.refuse(node, "only names have fields (a.b)")
        return self.path((self.spelled(current.id), *parts))

    def spelled(self, identifier: str) -> str:
        return self.source.names.get(identifier.strip(), identifier)

    def path(self, key: tuple[str, ...]) -> Compiled:
        self.names.add(key)
        return lambda env: env(key)

    def list_(self, node: ast.List) -> Compiled:
        items = [self.visit(item) for item in node.elts]
        return lambda env: [item(env) for item in items]

    # -- operators
    def bool_op(self, node: ast.BoolOp) -> Compiled:
        parts = [self.visit(value) for value in node.values]
        if isinstance(node.op, ast.And):
            return lambda env: all(truthy(part(env)) for part in parts)
        return lambda env: any(truthy(part(env)) for part in parts)

    def unary_op(self, node: ast.UnaryOp) -> Compiled:
        inner = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda env: not truthy(inner(env))
        if isinstance(node.op, ast.USub):
            return lambda env: _arith("*", inner(env), -1)
        raise self.refuse(node, "unary + is not part of the expression language")

    def bin_op(self, node: ast.BinOp) -> Compiled:
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            raise self.refuse(node, f"{_describe(node.op)} is not part of the expression language")
        left, right = self.visit(node.left), self.visit(node.right)
        return lambda env: _arith(op, left(env), right(env))

    def compare(self, node: ast.Compare) -> Compiled:
        if len(node.ops) != 1:
            raise self.refuse(node, "compare two values at a time (a < b and b < c)")
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        if isinstance(node.ops[0], ast.In):
            return lambda env: _is_in(left(env), right(env))
        op = _COMPARISONS.get(type(node.ops[0]))
        if op is None:
            raise self.refuse(node, f"{_describe(node.ops[0])} is not part of the expression language")
        return lambda env: _compare(op, left(env), right(env))

    # -- calls
    def call(self, node: ast.Call) -> Compiled:
        if not isinstance(node.func, ast.Name) or node.func.id in self.source.strings:
            raise self.refuse(node, "only functions of the language can be called, e.g. round(x, 2)")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(node, "function arguments are given by position only")
        name = self.spelled(node.func.id)
        args = [self.visit(arg) for arg in node.args]
        self.calls.add(name)
        if name in ("today", "now"):
            self.check_arity(node, name, FUNCTIONS[name], len(args))
            clock = FUNCTIONS[name].fn
            return lambda env: env(("__" + name,)) or clock()
        spec = FUNCTIONS.get(name)
        if spec is None:
            return self.unknown_or_aggregate(node, name)
        self.check_arity(node, name, spec, len(args))
        if spec.lazy:
            return lambda env: spec.fn(*[_thunk(a, env) for a in args])
        return lambda env: spec.fn(*[a(env) for a in args])

    def unknown_or_aggregate(self, node: ast.Call, name: str) -> Compiled:
        if self.aggregates and name in AGGREGATES:
            return lambda env: None  # evaluated by transform.group, never row by row
        known = sorted(set(FUNCTIONS) | (set(AGGREGATES) if self.aggregates else set()))
        pos = self.source.position(node.col_offset)
        raise ExprError(f"unknown function {name}(){did_you_mean(name, known, quote='')}", pos)

    def check_arity(self, node: ast.Call, name: str, spec: Function, n: int) -> None:
        if n >= spec.min_args and (spec.max_args is None or n <= spec.max_args):
            return
        if spec.min_args == spec.max_args:
            want = str(spec.min_args)
        elif spec.max_args is None:
            want = f"{spec.min_args} or more"
        else:
            want = f"{spec.min_args} to {spec.max_args}"
        raise ExprError(f"{name}() takes {want} argument(s), got {n}", self.source.position(node.col_offset))

    def top_call(self, node: ast.expr) -> tuple[str, list[Expr]] | None:
        """For `sum(Amount * 2)`: ("sum", [Expr("Amount * 2")]); None unless the whole text is one aggregate call."""
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return None
        name = self.spelled(node.func.id)
        if name not in AGGREGATES:
            return None
        return name, [compile_expr(self.text_of(arg)) for arg in node.args]


def _is_in(value: Any, options: Any) -> bool:
    return value is not None and any(_compare("==", value, o) for o in options or ())


def _thunk(fn: Compiled, env: Env) -> Callable[[], Any]:
    return lambda: fn(env)


def _describe(node: ast.AST) -> str:
    names = {
        "Pow": "'**'",
        "FloorDiv": "'//'",
        "Is": "'is'",
        "IsNot": "'is not'",
        "NotIn": "'not in' (write not (x in [...]))",
        "Subscript": "indexing with [...]",
        "IfExp": "Python's a if c else b (write if(c, a, b))",
        "Tuple": "a tuple",
        "Dict": "a mapping",
        "Set": "a set",
        "Lambda": "lambda",
        "Starred": "*",
    }
    kind = type(node).__name__
    return names.get(kind, f"'{kind}'" if kind[0].isupper() else kind)


_NODES: dict[type[ast.AST], Callable[[_Compiler, Any], Compiled]] = {
    ast.Constant: _Compiler.constant,
    ast.Name: _Compiler.name,
    ast.Attribute: _Compiler.attribute,
    ast.List: _Compiler.list_,
    ast.BoolOp: _Compiler.bool_op,
    ast.UnaryOp: _Compiler.unary_op,
    ast.BinOp: _Compiler.bin_op,
    ast.Compare: _Compiler.compare,
    ast.Call: _Compiler.call,
}
"""The allow-list: every node type an expression may contain, and how it is compiled."""


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
        from sheetsync.expr.values import _text

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
