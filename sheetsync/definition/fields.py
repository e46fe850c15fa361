"""Value types of the definition language, as pydantic annotations: expressions, templates, name lists.

Each compiles or normalises one YAML value and says how it looks in the JSON Schema. A failure is a
`PydanticCustomError` whose text is the final message (see `problems.py`, which adds file and line).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from sheetsync.expr import Expr, ExprError, Template, compile_expr, compile_template, is_template

PROBLEM = "definition"  # the error type of our own messages


def problem(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as is (no formatting of braces in it)."""
    return PydanticCustomError(PROBLEM, "{message}", {"message": message})


class AlsoAccepts:
    """Widen a field's JSON Schema with a shorthand the validator expands (a name for a list of names)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [self.schema, handler(schema)]}


def _expression_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise problem(f"an expression must be text, not {type(value).__name__}")
    return value


def _compile(value: Any) -> Expr:
    text = _expression_text(value)
    try:
        return compile_expr(text)
    except ExprError as exc:
        raise problem(f"bad expression {text!r}: {exc.message}") from None


def _compile_aggregate(value: Any) -> Expr:
    text = _expression_text(value)
    try:
        compiled = compile_expr(text, aggregates=True)
    except ExprError as exc:
        raise problem(f"bad expression {text!r}: {exc.message}") from None
    if compiled.top_call is None:
        raise problem(
            "an aggregate must be one of sum(), count(), average(), min(), max(), first(), last(), "
            "count_distinct(), list(), join()"
        )
    return compiled


def _compile_template(value: Any) -> Template:
    text = "" if value is None else value if isinstance(value, str) else str(value)
    try:
        return compile_template(text)
    except ExprError as exc:
        raise problem(f"bad template {text!r}: {exc.message}") from None


def _template_or_value(value: Any) -> Any:
    return _compile_template(value) if is_template(value) else value


_EXPRESSION_SCHEMA = {"type": ["string", "number", "boolean"], "description": "an expression, e.g. Price * 2"}
_TEMPLATE_SCHEMA = {"type": ["string", "number"], "description": "text with {{ expression }} parts"}

Expression = Annotated[Expr, PlainValidator(_compile), WithJsonSchema(_EXPRESSION_SCHEMA)]
"""An expression of the language (sheetsync.expr), compiled."""

Aggregate = Annotated[
    Expr,
    PlainValidator(_compile_aggregate),
    WithJsonSchema({"type": "string", "description": "sum(x), count(), average(x), min, max, first, last, ..."}),
]
"""One aggregate call such as `sum(Amount)`; `Expr.top_call` holds the function and its argument."""

TemplateText = Annotated[Template, PlainValidator(_compile_template), WithJsonSchema(_TEMPLATE_SCHEMA)]
"""Text with `{{ expression }}` parts, compiled."""

ValueOrTemplate = Annotated[
    Any,
    PlainValidator(_template_or_value),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"], "description": "a value or a {{ template }}"}),
]
"""A literal value, or a Template when the text holds `{{ ... }}`."""


def _name_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Names = Annotated[
    list[str],
    Field(min_length=1),
    BeforeValidator(_name_list),
    AlsoAccepts({"type": "string", "description": "one column name"}),
]
"""A column name or a non-empty list of them."""


def _colour(value: Any) -> Any:
    import re

    if value is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", str(value)):
        raise PydanticCustomError("colour", "must be a colour like #FFF2CC")
    return value


Colour = Annotated[str, BeforeValidator(_colour), Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
"""An RGB colour `#RRGGBB`."""

NullIsEmptyDict = BeforeValidator(lambda v: {} if v is None else v)
"""`key:` with no value (YAML null) is an empty mapping."""
NullIsEmptyList = BeforeValidator(lambda v: [] if v is None else v)
"""`key:` with no value (YAML null) is an empty list."""


def _flag_or_template(value: Any) -> Any:
    if is_template(value):
        return _compile_template(value)
    try:
        return _BOOL.validate_python(value)  # true/false, and yes/no/on/off written as text
    except ValidationError:
        raise problem(f"expected true, false or a {{{{ template }}}}, not {value!r}") from None


_BOOL = TypeAdapter(bool)
FlagOrTemplate = Annotated[
    Any,
    PlainValidator(_flag_or_template),
    WithJsonSchema({"type": ["boolean", "string"], "description": "true, false or a {{ template }} over params"}),
]
"""A bool, or a Template (rendered at run time) such as {{ params.burst }}."""
