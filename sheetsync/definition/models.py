"""The report definition language as pydantic models: one per construct, each key declared once.

`reports/price-list.yaml` is a complete example. These models check each value on its own (types,
enums, expression syntax, unknown keys); `checks.py` then checks what spans several constructs
(endpoints and their parameters, the columns flowing from step to step, names used in expressions).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Discriminator,
    Field,
    PositiveFloat,
    PrivateAttr,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass as schema_dataclass
from pydantic.json_schema import SkipJsonSchema

from sheetsync.definition.base import Strict
from sheetsync.definition.fields import (
    AlsoAccepts,
    Colour,
    Expression,
    FlagOrTemplate,
    Names,
    NullIsEmptyDict,
    NullIsEmptyList,
    TemplateText,
    ValueOrTemplate,
    problem,
)
from sheetsync.definition.params import PARAM_TYPES, coerce_param
from sheetsync.definition.steps import AnyStep, Step
from sheetsync.errors import ParameterError
from sheetsync.expr import Expr, compile_expr, is_template
from sheetsync.model import Format, Negatives, Total
from sheetsync.suggest import did_you_mean

ParamType = Literal["int", "int_list", "str", "str_list", "date", "decimal", "bool"]
RuleOp = Literal["<", "<=", ">", ">=", "==", "!=", "blank", "not_blank", "true"]
RULE_OPS: tuple[str, ...] = RuleOp.__args__  # type: ignore[attr-defined]
assert ParamType.__args__ == PARAM_TYPES  # type: ignore[attr-defined]


def _shorthand(key: str) -> Any:
    """A bare value stands for a mapping of one key: `customer_ids: int_list` is `{type: int_list}`."""
    return BeforeValidator(lambda v: {key: v} if isinstance(v, str) else v)


def _text_schema(description: str) -> AlsoAccepts:
    return AlsoAccepts({"type": "string", "description": description})


class ParamSpec(Strict):
    """A report parameter, given as `-p name=value` on the command line (lists comma-separated)."""

    name: SkipJsonSchema[str] = ""
    "The parameter's name (its key under `params`)."
    type: ParamType
    "int, int_list, str, str_list, date (YYYY-MM-DD or today), decimal or bool."
    required: bool = False
    "The run is refused without it."
    default: Any = None
    "Its value when not given; `today` for a date means the run's date."
    help: str = ""
    "One line shown by `sheetsync reports show`."

    @field_validator("default")
    @classmethod
    def _typed_default(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        if value is None or kind is None or (kind == "date" and value == "today"):
            return value
        try:
            return coerce_param(ParamSpec(name=info.data.get("name", ""), type=kind), value)
        except ParameterError as exc:
            raise problem(f"bad default: {exc.message}") from None


@schema_dataclass(config={"extra": "forbid", "populate_by_name": True, "use_attribute_docstrings": True})
class FromSource:
    """A dependent query parameter: the distinct values at `paths` in the records of an earlier source."""

    source: str = Field(alias="from")
    "The earlier source whose records are read."
    paths: Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = Field(
        validation_alias=AliasChoices("fields", "field"), min_length=1
    )
    "Dotted field paths (`Invoices_1_30.InvoiceID` walks a list); `field` for one."


def _dependent_template(value: Any) -> Any:
    """`{{ sources.NAME.FIELD }}` is the short form of `{from: NAME, field: FIELD}`."""
    import re

    if not (isinstance(value, str) and "{{" in value and "sources." in value):
        return value
    match = re.fullmatch(r"\s*\{\{\s*sources\.(\w+)\.([\w.]+)\s*\}\}\s*", value)
    if not match:
        raise problem("a dependent value must be exactly {{ sources.NAME.FIELD }} (or from:/field:)")
    return {"from": match.group(1), "fields": [match.group(2)]}


def _param_kind(value: Any) -> str:
    if isinstance(value, dict | FromSource):
        return "(from)"
    return "(template)" if is_template(value) else "(value)"


QueryValue = Annotated[
    Annotated[FromSource, Tag("(from)")] | Annotated[TemplateText, Tag("(template)")] | Annotated[Any, Tag("(value)")],
    Discriminator(_param_kind),
    BeforeValidator(_dependent_template),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": ["string", "number", "boolean"], "description": "a value, or {{ params.NAME }}"},
                {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
                {
                    "type": "object",
                    "description": "the distinct values of fields of an earlier source",
                    "properties": {
                        "from": {"type": "string"},
                        "field": {"type": "string"},
                        "fields": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["from"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
"""A query parameter's value: a literal, a template over `params`, or a dependent FromSource."""


class SourceSpec(Strict):
    """One API query; its records become the frame of the same name."""

    name: SkipJsonSchema[str] = ""
    "The source's name (its key under `sources`)."
    endpoint: Annotated[str, BeforeValidator(lambda v: v.strip("/") if isinstance(v, str) else v)]
    "The documented endpoint name, e.g. customerPricing (KSS) or orders/status (Kotis); see apis/registry.py."
    api: Literal["kss", "kotis"] = "kss"
    "Which API: kss (default) or kotis."
    params: Annotated[dict[str, QueryValue], NullIsEmptyDict] = Field(default_factory=dict)
    "Query parameters by their documented names."
    description: str = ""
    "A note for the reader."
    _line: int | None = PrivateAttr(None)

    @property
    def line(self) -> int | None:
        return self._line

    @property
    def depends_on(self) -> set[str]:
        return {v.source for v in self.params.values() if isinstance(v, FromSource)}


class LinkSpec(Strict):
    """A clickable cell."""

    url: Expression
    "The address, an expression (usually a field)."
    text: Expression | None = None
    "What the cell shows (default: the column's value)."


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise problem("width must be a positive number of characters")
    return value


class ColumnSpec(Strict):
    """One column of a tab: exactly one of `field` or `expr`."""

    header: str
    "The header text."
    field: str | None = None
    "The field shown."
    expr: Expression | None = None
    "An expression shown instead of a field."
    format: Format = Format.TEXT
    "text, integer, decimal, currency, percent, date, datetime or id (a number without separators). Default: from"
    " the field's documented type (money currency, quantities decimal, IDs id, dates date, instants datetime);"
    " text for an expr."
    width: Annotated[PositiveFloat | None, BeforeValidator(_not_bool)] = None
    "In characters (default: from the content)."
    total: Total | None = None
    "What the totals row shows: sum, count, average or label."
    link: Annotated[LinkSpec | None, _shorthand("url"), _text_schema("the url expression")] = None
    "Make the cell a link: {url, text}, or just the url expression."
    _value: Expr = PrivateAttr()

    @model_validator(mode="after")
    def _one_value(self) -> ColumnSpec:
        if (self.field is None) == (self.expr is None):
            raise problem(f"column '{self.header}' needs exactly one of `field` or `expr`")
        self._value = compile_expr(f"`{self.field}`") if self.field is not None else self.expr  # type: ignore[assignment]
        return self

    @property
    def value(self) -> Expr:
        """What the cell shows, as an expression (a field is the expression of one name)."""
        return self._value


def _column_shorthand(value: Any) -> Any:
    return {"header": value, "field": value} if isinstance(value, str) else value


Column = Annotated[ColumnSpec, BeforeValidator(_column_shorthand), _text_schema("a field, shown under its name")]


class RuleSpec(Strict):
    """Conditional formatting: style cells of rows where the `when` column passes `op value`."""

    when: str
    "The header of the column tested."
    op: RuleOp
    "<, <=, >, >=, ==, !=, blank, not_blank or true."
    value: ValueOrTemplate = None
    "What the column is compared with (may be a {{ template }} over params)."
    columns: tuple[str, ...] = ()
    "The headers of the columns styled (default: the whole row)."
    fill: Colour | None = "#FFF2CC"
    "Background colour, or null for none."
    font_color: Colour | None = None
    "Text colour."
    bold: bool = False
    "Bold text."


class ChartSpec(Strict):
    """A bar chart of the totals of some columns."""

    title: str = ""
    "The chart title (default: the tab title)."
    columns: Names
    "The headers of the columns charted."


class StatementSpec(Strict):
    """A customer-facing page around the tab (xlsx, see model.Statement); templates see the group's first
    row. The sender's letterhead, remit-to, terms and payment instructions come from sheetsync.toml [company]."""

    customer: Annotated[list[TemplateText], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]
    "The customer block, one template per line (name, account, address)."
    facts: dict[str, TemplateText] = Field(default_factory=dict)
    "Named lines beside the letterhead: {label: template}, e.g. Statement date, Account."
    band: dict[str, TemplateText] = Field(default_factory=dict)
    "The aging band: {label: amount template}, e.g. Current, 1-30 ... Credits."
    amount_due: TemplateText
    "The amount in the Amount due box."


class TabSpec(Strict):
    """A tab, or with `split` one tab per distinct value of a column, laid out from a frame."""

    id: str = Field(None, pattern=r"^[A-Za-z0-9_-]+$")  # type: ignore[assignment]  # default tab<N>
    "A stable key (letters, digits, - or _): the tab is `<report>/<id>[-<split value>]`."
    frame: str = Field(None, alias="from")  # type: ignore[assignment]  # default: the last step's output
    "The frame shown (default: the last step's output)."
    name: TemplateText = Field(None)  # type: ignore[assignment]  # default: the title, else the id
    "The tab name; cleaned and cut to 31 characters."
    title: TemplateText = Field(None)  # type: ignore[assignment]  # default: the name, else the id
    "The title above the table."
    columns: list[Column] = Field(min_length=1)
    "The columns, in order: a field name, or {header, field|expr, format, width, total, link}."
    split: str | None = None
    "One tab per distinct value of this column; templates see the group's first row and `value`."
    where: Expression | None = None
    "Only rows where this is true."
    rules: Annotated[list[RuleSpec], NullIsEmptyList] = Field(default_factory=list)
    "Conditional formatting."
    info: dict[str, TemplateText] = Field(default_factory=dict)
    "Extra header-block lines: {label: template}."
    chart: ChartSpec | None = None
    "A bar chart of column totals."
    template: str | None = None
    "A workbook in templates/ whose styles the tab takes."
    freeze_header: bool = True
    "Keep the header row visible when scrolling."
    autofilter: bool = True
    "Put filter buttons on the header row."
    as_of: TemplateText | None = None
    "'Data as of' (default: when the data was fetched)."
    statement: StatementSpec | None = None
    "A customer-facing page (xlsx): letterhead, customer block, aging band, amount due; no run metadata."
    key: list[str] = Field(default_factory=list)
    "The row key: columns (header or field) whose values identify a row, so columns users add follow it."
    _line: int | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _key_names_columns(self) -> TabSpec:
        names = [c.header for c in self.columns] + [c.field for c in self.columns if c.field]
        for name in self.key:
            if name not in names:
                raise problem(f"key '{name}' is not a column of the tab{did_you_mean(name, names)}")
        return self

    @property
    def key_headers(self) -> tuple[str, ...]:
        """The row key as column headers (a key given as a field names its column)."""
        by_field = {c.field: c.header for c in self.columns if c.field}
        headers = {c.header for c in self.columns}
        return tuple(name if name in headers else by_field[name] for name in self.key)

    @property
    def line(self) -> int | None:
        return self._line


class BurstSpec(Strict):
    """One workbook per distinct value of `by`, each holding only that value's rows."""

    by: str
    "The column whose values split the workbook."
    name: TemplateText = Field(None)  # type: ignore[assignment]  # default "<report>-{{ value }}"
    "Each workbook's file name."
    enabled: FlagOrTemplate = True
    "true, false or a template over params (e.g. {{ params.burst }})."


class DemoValue(Strict):
    """A demo parameter resolved by a query: the first `limit` distinct values of `field`."""

    endpoint: str
    "A KSS list endpoint."
    field: str
    "The field whose values are taken."
    params: dict[str, Any] = Field(default_factory=dict)
    "The query's parameters."
    limit: int = 3
    "How many values."


def _demo_kind(value: Any) -> str:
    return "(query)" if isinstance(value, dict | DemoValue) else "(value)"


DemoSetting = Annotated[
    Annotated[DemoValue, Tag("(query)")] | Annotated[Any, Tag("(value)")],
    Discriminator(_demo_kind),
    WithJsonSchema({"description": "a value, or {endpoint, field, params, limit}"}),
]


def _keyed(value: Any) -> Any:
    """Give each mapping in `{key: {...}}` its key as `name`; expand `key: text` shorthands later."""
    if not isinstance(value, dict):
        return value
    return {k: ({**v, "name": k} if isinstance(v, dict) else v) for k, v in value.items()}


def _param_shorthand(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}


def _source_shorthand(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: ({"endpoint": v} if isinstance(v, str) else v) for k, v in value.items()}


ParamName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")]


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except Exception:
        raise problem(f"unknown time zone '{value}'") from None
    return value


class Definition(Strict):
    """A report: parameters, the API queries, transform steps, and the tabs laid out from the frames."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    "Lower-case letters, digits, - or _; `sheetsync run NAME`."
    title: str = Field(None)  # type: ignore[assignment]  # default: the name
    "Shown in the header block and by `sheetsync reports list`."
    description: Annotated[str, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)] = ""
    "What the report is for."
    timezone: Annotated[str, BeforeValidator(_time_zone)] = "America/Los_Angeles"
    "Dates and times are shown in this IANA time zone."
    negatives: Negatives | None = None
    "How negative money (credits) is shown: parentheses, red (parentheses in red), minus or red-minus."
    " Default: sheetsync.toml [presentation] negatives, else parentheses."
    params: Annotated[
        dict[ParamName, Annotated[ParamSpec, AlsoAccepts({"enum": list(PARAM_TYPES), "description": "the type"})]],
        BeforeValidator(_keyed),
        BeforeValidator(_param_shorthand),
        NullIsEmptyDict,
    ] = Field(default_factory=dict)
    "Report parameters by name: {type, required, default, help}, or just the type."
    demo: dict[str, DemoSetting] = Field(default_factory=dict)
    "What `sheetsync demo` passes for each parameter: a value, or the first values of a query."
    sources: Annotated[
        dict[str, Annotated[SourceSpec, _text_schema("the endpoint alone, e.g. products")]],
        Field(min_length=1),
        BeforeValidator(_keyed),
        BeforeValidator(_source_shorthand),
    ]
    "One API query each, by name; a dependent source reads only sources declared above it."
    transforms: Annotated[list[AnyStep], NullIsEmptyList] = Field(default_factory=list)
    "Steps in order, each `- kind: {options}`."
    tabs: list[TabSpec] = Field(min_length=1)
    "The tabs of the workbook."
    burst: Annotated[BurstSpec | None, _shorthand("by"), _text_schema("the column to burst by")] = None
    "One workbook per distinct value of a column."
    _file: str = PrivateAttr("")

    @model_validator(mode="after")
    def _default_title(self) -> Definition:
        if self.title is None:
            self.title = self.name
        return self

    @property
    def steps(self) -> list[Step]:
        return list(self.transforms)

    @property
    def file(self) -> str:
        return self._file


__all__ = [
    "RULE_OPS",
    "BurstSpec",
    "ChartSpec",
    "ColumnSpec",
    "Definition",
    "DemoValue",
    "FromSource",
    "LinkSpec",
    "ParamSpec",
    "RuleSpec",
    "SourceSpec",
    "TabSpec",
    "date",
]
