"""Transform steps: one model per kind, written in YAML as `- join: {...}`, validated as a tagged union.

Every step reads the frame `frame` (default: the previous step's output, or the first source) and
writes the frame `as` (default: the frame it read). `definition.checks` resolves `frame` and follows
the columns from step to step; `transform.py` runs them.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, GetJsonSchemaHandler, NonNegativeInt, PrivateAttr, model_validator
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import core_schema

from sheetsync.definition.base import Strict
from sheetsync.definition.fields import Aggregate, AlsoAccepts, Expression, Names, problem
from sheetsync.expr import Expr


class Step(Strict):
    """What every step shares."""

    kind: ClassVar[str]
    frame: str = Field(None)  # type: ignore[assignment]  # resolved by the checks: never None afterwards
    "The frame this step reads (default: the previous step's output, or the first source)."
    as_: str | None = Field(None, alias="as")
    "The name of the frame it writes (default: the frame it read, replaced)."
    _line: int | None = PrivateAttr(None)

    @property
    def output(self) -> str:
        return self.as_ or self.frame

    @property
    def line(self) -> int | None:
        return self._line


class Join(Step):
    """Add the columns of another frame to each row whose key matches (12, Decimal 12 and "12" meet)."""

    kind: ClassVar[str] = "join"
    tag: SkipJsonSchema[Literal["join"]] = "join"
    with_: str = Field(alias="with")
    "The frame whose columns are added."
    on: Names | None = None
    "The key column(s), named the same in both frames."
    left_on: Names | None = None
    "The key column(s) of this frame, when the names differ (with `right_on`)."
    right_on: Names | None = None
    "The key column(s) of the `with` frame."
    how: Literal["left", "inner", "outer", "right"] = "left"
    "Which rows are kept without a match: left (default), inner, outer or right."
    columns: Names | None = None
    "The columns of the `with` frame to add (default: all but its key)."
    prefix: str = ""
    "Prepended to every added column; without it a clashing name gets the suffix `_<with>`."

    @model_validator(mode="after")
    def _keys(self) -> Join:
        if self.on is None and (self.left_on is None or self.right_on is None):
            raise problem("join needs `on` (or `left_on` and `right_on`)")
        if len(self.left_keys) != len(self.right_keys):
            raise problem("left_on and right_on must name the same number of columns")
        return self

    @property
    def left_keys(self) -> list[str]:
        return list(self.on or self.left_on or [])

    @property
    def right_keys(self) -> list[str]:
        return list(self.on or self.right_on or [])


def _explode_lists(value: Any) -> Any:
    return dict.fromkeys(value) if isinstance(value, list) else value


class Explode(Step):
    """One row per item of a list column (or of several, labelled); mapping items become columns."""

    kind: ClassVar[str] = "explode"
    tag: SkipJsonSchema[Literal["explode"]] = "explode"
    column: str | None = None
    "The one list column to explode."
    columns: Annotated[
        dict[str, str | None] | None,
        BeforeValidator(_explode_lists),
        AlsoAccepts({"type": "array", "items": {"type": "string"}}),
    ] = None
    "Several list columns: a list of names, or {column: label} (the label goes into the `label` column)."
    label: str | None = None
    "The column that says which list a row came from (default Source when there are several)."
    fields: Names | None = None
    "The fields of the list items, so later steps can be checked against them."
    prefix: str | None = None
    "Prepended to the item fields' column names."

    @model_validator(mode="after")
    def _lists(self) -> Explode:
        if self.column is None and not self.columns:
            raise problem("explode needs `column: NAME` or `columns: [NAMES]` / {NAME: label}")
        return self

    @property
    def lists(self) -> dict[str, str | None]:
        """{list column: its label}; the label is None for a bare name."""
        return {self.column: None} if self.column is not None else dict(self.columns or {})


class Derive(Step):
    """New columns computed row by row; a later column may use an earlier one."""

    kind: ClassVar[str] = "derive"
    tag: SkipJsonSchema[Literal["derive"]] = "derive"
    columns: dict[str, Expression] = Field(min_length=1)
    "{Name: expression}."


class Filter(Step):
    """Keep the rows where the expression is true (null is false)."""

    kind: ClassVar[str] = "filter"
    tag: SkipJsonSchema[Literal["filter"]] = "filter"
    where: Expression
    "The condition, e.g. Amount != 0."


class Sort(Step):
    """Sort rows, nulls last; `-Name` sorts descending."""

    kind: ClassVar[str] = "sort"
    tag: SkipJsonSchema[Literal["sort"]] = "sort"
    by: Names
    "The columns, most significant first."


class Group(Step):
    """One row per distinct key: the key columns and the aggregates."""

    kind: ClassVar[str] = "group"
    tag: SkipJsonSchema[Literal["group"]] = "group"
    by: Names
    "The key columns."
    aggregate: dict[str, Aggregate] = Field(min_length=1)
    "{Name: sum(Field)}; also count(), average(), min(), max(), first(), last(), count_distinct(), list(), join()."


class Select(Step):
    """Keep these columns, in this order (a missing one is added empty)."""

    kind: ClassVar[str] = "select"
    tag: SkipJsonSchema[Literal["select"]] = "select"
    columns: Names
    "The columns to keep."


class Rename(Step):
    """Rename columns."""

    kind: ClassVar[str] = "rename"
    tag: SkipJsonSchema[Literal["rename"]] = "rename"
    columns: dict[str, str] = Field(min_length=1)
    "{Old: New}."


class Dedupe(Step):
    """Keep the first row of each distinct key."""

    kind: ClassVar[str] = "dedupe"
    tag: SkipJsonSchema[Literal["dedupe"]] = "dedupe"
    by: Names
    "The key columns."


class UnionStep(Step):
    """The rows of several frames, one after another (columns are the union)."""

    kind: ClassVar[str] = "union"
    tag: SkipJsonSchema[Literal["union"]] = "union"
    frames: Names
    "The frames to stack."
    as_: str = Field(alias="as")  # type: ignore[assignment]
    "The name of the new frame."


class Running(Step):
    """A running total of an expression, restarting for each key."""

    kind: ClassVar[str] = "running"
    tag: SkipJsonSchema[Literal["running"]] = "running"
    column: str
    "The new column holding the running total."
    of: Expression
    "What to add up, e.g. Amount."
    by: Names | None = None
    "The key columns the total restarts for."


class Head(Step):
    """The first `n` rows."""

    kind: ClassVar[str] = "head"
    tag: SkipJsonSchema[Literal["head"]] = "head"
    n: NonNegativeInt
    "How many rows."


STEP_TYPES: tuple[type[Step], ...] = (
    Join,
    Explode,
    Derive,
    Filter,
    Sort,
    Group,
    Select,
    Rename,
    Dedupe,
    UnionStep,
    Running,
    Head,
)
STEP_KINDS = tuple(t.kind for t in STEP_TYPES)


def _tagged(item: Any) -> Any:
    """`{join: {...}}` -> `{tag: join, ...}`, so the union picks the model by the mapping's one key."""
    if isinstance(item, dict) and len(item) == 1:
        kind, options = next(iter(item.items()))
        options = {} if options is None else options
        if isinstance(options, dict):
            return {**options, "tag": kind}
        raise problem(f"a {kind} step takes a mapping of options, not {type(options).__name__}")
    raise problem(f"a transform step is one `kind: {{options}}` mapping; kinds: {', '.join(STEP_KINDS)}")


class _OneKeyMappings:
    """In the JSON Schema a step is what the YAML shows: a mapping with one key, the kind."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        union = handler(schema)
        return {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {kind: ref},
                    "required": [kind],
                    "additionalProperties": False,
                }
                for kind, ref in zip(STEP_KINDS, union["oneOf"], strict=True)
            ]
        }


AnyStep = Annotated[
    Join | Explode | Derive | Filter | Sort | Group | Select | Rename | Dedupe | UnionStep | Running | Head,
    Field(discriminator="tag"),
    BeforeValidator(_tagged),
    _OneKeyMappings(),
]
"""One transform step, chosen by its key."""

__all__ = ["STEP_KINDS", "STEP_TYPES", "AnyStep", "Expr", "Step"]
