"""Report definitions: YAML -> validated, typed objects, checked strictly before any request.

Every mistake raises one `DefinitionError` naming the file, the line (from yaml's node marks) and
what is wrong, with a did-you-mean where a name is close to a known one.

The language (reports/price-list.yaml is a complete example)::

    name: price-list                 # lower-case; `sheetsync run price-list`
    title: Price list
    description: ...
    timezone: America/Los_Angeles    # dates and times are shown in it (default)
    params:                          # -p name=value on the command line, lists comma-separated
      customer_ids: {type: int_list, required: true, help: ...}
      as_of: {type: date, default: today}      # int int_list str str_list date decimal bool
    demo:                            # what `sheetsync demo` passes: a value, or the first N of a query
      customer_ids: {endpoint: customers, field: CustomerID, limit: 3}
    sources:                         # one query each; api: kss (default) or kotis
      pricing:
        endpoint: customerPricing    # documented name, checked with its parameters
        params: {CustomerIDs: "{{ params.customer_ids }}", Statuses: [1, 2]}
      products:                      # dependent: distinct values of an earlier source, batched
        endpoint: products           #   (<=300 IDs and ~5 KB per request); dotted paths walk lists:
        params: {ProductIDs: "{{ sources.pricing.ProductID }}"}
                                     #   {from: aging, fields: [Invoices_1_30.InvoiceID, ...]}
    transforms:                      # steps in order; `frame:` defaults to the previous output,
      - join: {frame: pricing, with: products, on: ProductID, how: left, columns: [...], prefix: P, as: rows}
      - explode: {frame: aging, columns: {Invoices_1_30: 1-30, CreditInvoices: Credit}, label: Bucket,
                  fields: [InvoiceID, InvoiceNum], as: items}        # dict items become columns
      - derive: {columns: {Cases: "ceil(max(0, params.days * AvgDailySales90d - AvailableUnits)
                                      / coalesce(WholesaleUnitsPerCase, 1))"}}
      - filter: {where: "Amount != 0"}
      - sort: {by: [Sequence, BrandName, -UnitPrice]}                # "-" sorts descending, nulls last
      - group: {by: [CustomerID], aggregate: {Total: sum(Amount), Lines: count()}, as: totals}
      - running: {column: Balance, of: Amount, by: CustomerID}       # running total
      - select / rename / dedupe {by} / union {frames, as} / head {n}
    tabs:
      - id: customer                 # stable key "<report>/<id>[-<split value>]"
        from: rows                   # default: the last step's output
        split: CustomerID            # one tab per value; templates see the group's first row and `value`
        name: "{{ CustomerName }}"   # cleaned, <= 31 characters, unique
        title: "Price list: {{ CustomerName }}"
        where: "UnitPrice > 0"
        info: {Customer: "{{ CustomerName }}"}   # extra header-block lines
        as_of: "{{ CloseDate }}"     # "Data as of" (default: when the data was fetched)
        columns:
          - {header: Unit price, field: UnitPrice, format: currency, width: 12, total: sum}
          - {header: Cases, expr: "ceil(Units / 12)", format: integer}
          - {header: Invoice, field: InvoiceNum, link: {url: PDFURL}}   # or link: {url: ..., text: ...}
        # formats: text integer decimal currency percent date datetime; totals: sum count average label
        rules: [{when: Promotion, op: not_blank, fill: "#FFF2CC", columns: []}]  # < <= > >= == != blank
        chart: {title: Aging, columns: [Current, 1-30]}                          # not_blank true
        template: statement          # a workbook in templates/ (xlsx)
    burst: {by: CustomerID, name: "ar-aging-{{ CustomerName }}", enabled: "{{ params.burst }}"}

Expressions (sheetsync.expr) are parsed, never eval'd: fields, `params.x`, Decimal arithmetic,
comparisons, and/or/not, `x in [..]`, if/ceil/floor/round/min/max/abs/coalesce/concat/text/number/
int/date/local_date/days_between/add_days/year/month/today/now and string functions; null-safe.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sheetsync.errors import DefinitionError, ParameterError
from sheetsync.expr import Expr, ExprError, Template, compile_expr, compile_template, is_template
from sheetsync.model import Format, Total

PARAM_TYPES = ("int", "int_list", "str", "str_list", "date", "decimal", "bool")
KOTIS_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "sku_quantities": (),
    "order_status": ("order_numbers",),
    "orders_by_source": ("source", "start", "end", "portal_name"),
}
RULE_OPS = ("<", "<=", ">", ">=", "==", "!=", "blank", "not_blank", "true")
Path_ = tuple[Any, ...]


# ---------------------------------------------------------------- schema types


@dataclass
class ParamSpec:
    """A report parameter, given as `-p name=value` (lists comma-separated)."""

    name: str
    type: str
    required: bool = False
    default: Any = None  # already typed; the string "today" for a date means the run's date
    help: str = ""


@dataclass
class FromSource:
    """A dependent query parameter: the distinct values at `paths` in the records of `source`."""

    source: str
    paths: list[str]


@dataclass
class SourceSpec:
    """One API query. `params` values are literals, Templates over `params`, or FromSource."""

    name: str
    api: str  # "kss" or "kotis"
    endpoint: str
    params: dict[str, Any]
    line: int | None = None

    @property
    def depends_on(self) -> set[str]:
        return {v.source for v in self.params.values() if isinstance(v, FromSource)}


@dataclass
class StepSpec:
    """One transform step: `kind` (join, explode, derive, ...), input `frame`, output `output`."""

    kind: str
    frame: str
    output: str
    options: dict[str, Any]
    line: int | None = None


@dataclass
class LinkSpec:
    url: Expr
    text: Expr | None = None


@dataclass
class ColumnSpec:
    header: str
    value: Expr  # a field name is the expression of one name
    format: Format = Format.TEXT
    width: float | None = None
    total: Total | None = None
    link: LinkSpec | None = None


@dataclass
class RuleSpec:
    when: str  # a column header of the tab
    op: str
    value: Any = None  # literal or Template over params
    columns: tuple[str, ...] = ()
    fill: str | None = "#FFF2CC"
    font_color: str | None = None
    bold: bool = False


@dataclass
class TabSpec:
    """A tab (or, with `split`, one tab per distinct value of a column) laid out from a frame."""

    id: str
    frame: str
    name: Template
    title: Template
    columns: list[ColumnSpec]
    split: str | None = None
    where: Expr | None = None
    rules: list[RuleSpec] = field(default_factory=list)
    info: list[tuple[str, Template]] = field(default_factory=list)
    chart: tuple[str, tuple[str, ...]] | None = None
    template: str | None = None
    freeze_header: bool = True
    autofilter: bool = True
    as_of: Template | None = None
    line: int | None = None


@dataclass
class BurstSpec:
    """One workbook per distinct value of `by`; each holds only that value's rows."""

    by: str
    name: Template
    enabled: Any = True  # bool or Template over params


@dataclass
class DemoValue:
    """A demo parameter resolved by a query: the first `limit` distinct values of `field`."""

    endpoint: str
    field: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    limit: int = 3


@dataclass
class Definition:
    name: str
    title: str
    description: str
    params: dict[str, ParamSpec]
    sources: dict[str, SourceSpec]
    steps: list[StepSpec]
    tabs: list[TabSpec]
    burst: BurstSpec | None = None
    demo: dict[str, Any] = field(default_factory=dict)
    timezone: str = "America/Los_Angeles"
    file: str = ""


# ---------------------------------------------------------------- YAML with line numbers


def _load_yaml(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML keeping each key's line; mapping keys stay strings (`on:` is not True)."""
    lines: dict[Path_, int] = {}
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    if node is None:
        raise DefinitionError("the file is empty", file=file)

    def convert(n: yaml.Node, path: Path_) -> Any:
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in n.value:
                key = str(key_node.value)
                if key in out:
                    raise DefinitionError(f"duplicate key '{key}'", file=file, line=key_node.start_mark.line + 1)
                lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = convert(value_node, (*path, key))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [convert(item, (*path, i)) for i, item in enumerate(n.value)]
        return yaml.SafeLoader("").construct_object(n)

    return convert(node, ()), lines


# ---------------------------------------------------------------- the validator


class _Checker:
    def __init__(self, file: str, lines: dict[Path_, int], endpoints: Mapping[str, Any]) -> None:
        self.file = file
        self.lines = lines
        self.endpoints = endpoints
        self.params: dict[str, ParamSpec] = {}
        self.sources: dict[str, SourceSpec] = {}
        self.frames: dict[str, set[str] | None] = {}  # frame -> known columns (None: unknown)
        self.origin: dict[str, str] = {}  # frame -> "endpoint X" or "frame X"

    def line(self, path: Path_) -> int | None:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def fail(self, path: Path_, message: str) -> DefinitionError:
        return DefinitionError(message, file=self.file, line=self.line(path))

    # -- generic shape checks
    def mapping(
        self, value: Any, path: Path_, what: str, allowed: Sequence[str], required: Sequence[str] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"{what} must be a mapping, not {_kind(value)}")
        for key in value:
            if key not in allowed:
                raise self.fail((*path, key), f"unknown key '{key}' in {what}{_hint(key, allowed)}")
        for key in required:
            if key not in value:
                raise self.fail(path, f"{what} is missing '{key}'")
        return value

    def text(self, value: Any, path: Path_, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"{what} must be non-empty text")
        return value

    def names(self, value: Any, path: Path_, what: str) -> list[str]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise self.fail(path, f"{what} must be a column name or a list of them")
        return items

    def expr(self, text: Any, path: Path_, frame: str | None, *, aggregates: bool = False) -> Expr:
        if isinstance(text, bool | int | float | Decimal):
            text = str(text).lower() if isinstance(text, bool) else str(text)
        try:
            compiled = compile_expr(text, aggregates=aggregates)
        except ExprError as exc:
            raise self.fail(path, f"bad expression {text!r}: {exc.message}") from None
        for name in compiled.names:
            self.check_name(name, path, frame)
        return compiled

    def template(self, text: Any, path: Path_, frame: str | None) -> Template:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        try:
            compiled = compile_template(text)
        except ExprError as exc:
            raise self.fail(path, f"bad template {text!r}: {exc.message}") from None
        for part in compiled.exprs:
            for name in part.names:
                self.check_name(name, path, frame, template_names=("value", "report"))
        return compiled

    def check_name(
        self, name: tuple[str, ...], path: Path_, frame: str | None, template_names: Sequence[str] = ()
    ) -> None:
        root = name[0]
        if root == "params":
            if len(name) < 2 or name[1] not in self.params:
                given = name[1] if len(name) > 1 else ""
                raise self.fail(path, f"unknown parameter 'params.{given}'{_hint(given, self.params)}")
            return
        if root in template_names:
            return
        if frame is None:
            raise self.fail(path, f"'{'.'.join(name)}' is not available here (only params.NAME is)")
        self.check_field(root, frame, path)

    def check_field(self, column: str, frame: str, path: Path_) -> None:
        columns = self.frames.get(frame)
        if columns is None or column in columns:
            return
        origin = self.origin.get(frame, "")
        where = (
            f"is not documented for endpoint '{origin}'"
            if origin.startswith("endpoint:")
            else f"is not a column of frame '{frame}'"
        )
        where = where.replace("endpoint:", "")
        raise self.fail(path, f"field '{column}' {where}{_hint(column, columns)}")

    def frame(self, name: Any, path: Path_) -> str:
        if not isinstance(name, str) or name not in self.frames:
            raise self.fail(
                path,
                f"unknown frame '{name}'{_hint(str(name), self.frames)} (sources and `as:` names of earlier steps)",
            )
        return name


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "empty"}.get(type(value), type(value).__name__)


def _hint(name: str, options: Any) -> str:
    if not options:
        return ""
    close = difflib.get_close_matches(name, [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---------------------------------------------------------------- params


def coerce_param(spec: ParamSpec, raw: Any, *, today: date | None = None) -> Any:
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
        want = {
            "int": "a whole number",
            "int_list": "whole numbers separated by commas, e.g. 1,2,3",
            "str_list": "text values separated by commas",
            "date": "a date YYYY-MM-DD or 'today'",
            "decimal": "a number",
            "bool": "true or false",
            "str": "text",
        }[kind]
        raise ParameterError(f"parameter {spec.name} expects {want}, got {raw!r}") from None


def _coerce_one(kind: str, raw: Any, today: date | None) -> Any:
    if kind == "int":
        if isinstance(raw, bool) or (isinstance(raw, float | Decimal) and raw != int(raw)):
            raise ValueError(raw)
        return int(str(raw).strip())
    if kind == "decimal":
        if isinstance(raw, bool):
            raise ValueError(raw)
        return Decimal(str(raw).strip())
    if kind == "date":
        if isinstance(raw, date):
            return raw
        text = str(raw).strip()
        if text == "today":
            return today or date.today()
        return date.fromisoformat(text)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1", "on"):
            return True
        if text in ("false", "no", "0", "off"):
            return False
        raise ValueError(raw)
    text = str(raw).strip()
    if not text:
        raise ValueError(raw)
    return text


def resolve_params(definition: Definition, given: Mapping[str, Any], *, today: date | None = None) -> dict[str, Any]:
    """Typed values of every parameter: given ones, then defaults; refuse unknown and missing ones."""
    for name in given:
        if name not in definition.params:
            known = ", ".join(definition.params) or "none"
            raise ParameterError(
                f"report {definition.name} has no parameter '{name}'"
                f"{_hint(name, definition.params)} (parameters: {known})"
            )
    values: dict[str, Any] = {}
    for name, spec in definition.params.items():
        raw = given.get(name, spec.default)
        if raw is None and spec.required:
            raise ParameterError(f"report {definition.name} needs parameter {name} ({spec.type}): add -p {name}=VALUE")
        values[name] = coerce_param(spec, raw, today=today)
    return values


# ---------------------------------------------------------------- sections


def _check_params(c: _Checker, raw: Any) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict):
        raise c.fail(("params",), "params must be a mapping of name -> {type, required, default, help}")
    for name, spec in raw.items():
        path = ("params", name)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise c.fail(path, f"parameter name '{name}' must be lower_snake_case")
        if isinstance(spec, str):
            spec = {"type": spec}
        c.mapping(spec, path, f"parameter '{name}'", ("type", "required", "default", "help"), ("type",))
        kind = spec["type"]
        if kind not in PARAM_TYPES:
            raise c.fail(
                (*path, "type"),
                f"parameter '{name}' has unknown type '{kind}'{_hint(str(kind), PARAM_TYPES)}"
                f" (types: {', '.join(PARAM_TYPES)})",
            )
        param = ParamSpec(name, kind, bool(spec.get("required", False)), None, str(spec.get("help", "")))
        default = spec.get("default")
        if default is not None:
            if kind == "date" and default == "today":
                param.default = "today"
            else:
                try:
                    param.default = coerce_param(param, default)
                except ParameterError as exc:
                    raise c.fail((*path, "default"), f"bad default: {exc.message}") from None
        c.params[name] = param


def _check_sources(c: _Checker, raw: Any) -> None:
    if not isinstance(raw, dict) or not raw:
        raise c.fail(("sources",), "sources must be a non-empty mapping of name -> {endpoint, params}")
    for name, spec in raw.items():
        path = ("sources", name)
        if isinstance(spec, str):
            spec = {"endpoint": spec}
        c.mapping(spec, path, f"source '{name}'", ("endpoint", "api", "params", "description"), ("endpoint",))
        api = spec.get("api", "kss")
        if api not in ("kss", "kotis"):
            raise c.fail((*path, "api"), f"source '{name}': api must be kss or kotis, not '{api}'")
        endpoint = str(spec["endpoint"]).strip("/")
        params_raw = spec.get("params") or {}
        if not isinstance(params_raw, dict):
            raise c.fail((*path, "params"), f"source '{name}': params must be a mapping")
        if api == "kss":
            columns, allowed = _kss_endpoint(c, name, endpoint, path)
        else:
            if endpoint not in KOTIS_ENDPOINTS:
                raise c.fail(
                    (*path, "endpoint"), f"unknown Kotis endpoint '{endpoint}'{_hint(endpoint, KOTIS_ENDPOINTS)}"
                )
            columns, allowed = None, dict.fromkeys(KOTIS_ENDPOINTS[endpoint])
        params = {
            key: _source_param(c, name, endpoint, key, value, allowed, (*path, "params", key))
            for key, value in params_raw.items()
        }
        if api == "kss":
            for pname, param in allowed.items():
                if getattr(param, "required", False) and pname not in params:
                    raise c.fail(path, f"source '{name}': endpoint '{endpoint}' requires parameter {pname}")
        c.sources[name] = SourceSpec(name, api, endpoint, params, c.line(path))
        c.frames[name] = columns
        c.origin[name] = f"endpoint:{endpoint}"


def _kss_endpoint(c: _Checker, name: str, endpoint: str, path: Path_) -> tuple[set[str] | None, dict[str, Any]]:
    found = c.endpoints.get(endpoint)
    if found is None:
        lists = [e for e, spec in c.endpoints.items() if not getattr(spec, "single", False)]
        raise c.fail((*path, "endpoint"), f"source '{name}': unknown KSS endpoint '{endpoint}'{_hint(endpoint, lists)}")
    if getattr(found, "single", False) or "{" in endpoint:
        raise c.fail(
            (*path, "endpoint"),
            f"source '{name}': '{endpoint}' fetches one record per request; use the "
            "list endpoint with an IDs parameter instead",
        )
    if getattr(found, "method", "GET") != "GET":
        raise c.fail((*path, "endpoint"), f"source '{name}': reports can only read (GET) endpoints")
    fields = set(getattr(found, "fields", ()) or ())
    params = {k: v for k, v in found.params.items() if getattr(v, "location", "query") == "query"}
    return (fields or None), params


def _source_param(
    c: _Checker, source: str, endpoint: str, key: str, value: Any, allowed: Mapping[str, Any], path: Path_
) -> Any:
    if key not in allowed:
        names = ", ".join(allowed) or "none"
        raise c.fail(
            path,
            f"source '{source}': endpoint '{endpoint}' has no parameter '{key}'"
            f"{_hint(key, allowed)} (parameters: {names})",
        )
    if isinstance(value, dict):
        c.mapping(value, path, f"parameter {key}", ("from", "field", "fields"), ("from",))
        paths = value.get("fields") or value.get("field")
        if not paths:
            raise c.fail(path, f"parameter {key}: give `field` (or `fields`) of source '{value['from']}'")
        return _from_source(c, str(value["from"]), c.names(paths, path, f"parameter {key} fields"), path)
    if is_template(value):
        template = c.template(value, path, None) if "sources." not in value else None
        if template is None:
            match = re.fullmatch(r"\s*\{\{\s*sources\.(\w+)\.([\w.]+)\s*\}\}\s*", value)
            if not match:
                raise c.fail(
                    path,
                    f"parameter {key}: a dependent value must be exactly "
                    "{{ sources.NAME.FIELD }} (or from:/field:)",
                )
            return _from_source(c, match.group(1), [match.group(2)], path)
        return template
    _check_literal(c, endpoint, key, value, allowed, path)
    return value


def _check_literal(c: _Checker, endpoint: str, key: str, value: Any, allowed: Mapping[str, Any], path: Path_) -> None:
    param = allowed.get(key)
    if param is None or not hasattr(param, "encode"):
        return
    try:
        param.encode(value, endpoint)
    except ParameterError as exc:
        raise c.fail(path, exc.message) from None


def _from_source(c: _Checker, source: str, paths: list[str], path: Path_) -> FromSource:
    if source not in c.sources:
        raise c.fail(
            path,
            f"a dependent parameter reads source '{source}', which is not declared above it{_hint(source, c.sources)}",
        )
    for p in paths:
        c.check_field(p.split(".")[0], source, path)
    return FromSource(source, paths)


STEP_KEYS: dict[str, tuple[str, ...]] = {
    "join": ("with", "on", "left_on", "right_on", "how", "columns", "prefix"),
    "explode": ("column", "columns", "label", "fields", "prefix"),
    "derive": ("columns",),
    "filter": ("where",),
    "sort": ("by",),
    "group": ("by", "aggregate"),
    "select": ("columns",),
    "rename": ("columns",),
    "dedupe": ("by",),
    "union": ("frames",),
    "running": ("column", "of", "by"),
    "head": ("n",),
}


def _check_steps(c: _Checker, raw: Any) -> list[StepSpec]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise c.fail(("transforms",), "transforms must be a list of steps like `- join: {...}`")
    steps: list[StepSpec] = []
    previous = next(iter(c.sources))
    for i, item in enumerate(raw):
        path: Path_ = ("transforms", i)
        if not isinstance(item, dict) or len(item) != 1:
            raise c.fail(path, f"a transform step is one `kind: {{options}}` mapping; kinds: {', '.join(STEP_KEYS)}")
        kind, options = next(iter(item.items()))
        path = (*path, kind)
        if kind not in STEP_KEYS:
            raise c.fail(path, f"unknown transform '{kind}'{_hint(kind, STEP_KEYS)} (kinds: {', '.join(STEP_KEYS)})")
        options = c.mapping(options or {}, path, f"{kind} step", (*STEP_KEYS[kind], "frame", "as"))
        frame = previous if kind == "union" else c.frame(options.get("frame", previous), (*path, "frame"))
        output = str(options.get("as", frame))
        columns = _STEP_CHECKS[kind](c, options, frame, path)
        c.frames[output] = columns
        c.origin[output] = f"frame:{output}"
        steps.append(StepSpec(kind, frame, output, options, c.line(path)))
        previous = output
    return steps


def _step_join(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    right = c.frame(o.get("with"), (*path, "with"))
    if "on" in o:
        left_on = right_on = c.names(o["on"], (*path, "on"), "on")
    elif "left_on" in o and "right_on" in o:
        left_on = c.names(o["left_on"], (*path, "left_on"), "left_on")
        right_on = c.names(o["right_on"], (*path, "right_on"), "right_on")
    else:
        raise c.fail(path, "join needs `on` (or `left_on` and `right_on`)")
    if len(left_on) != len(right_on):
        raise c.fail(path, "left_on and right_on must name the same number of columns")
    for col in left_on:
        c.check_field(col, frame, (*path, "on"))
    for col in right_on:
        c.check_field(col, right, (*path, "on"))
    if o.get("how", "left") not in ("left", "inner", "outer", "right"):
        raise c.fail((*path, "how"), "how must be left, inner, outer or right")
    picked = c.names(o["columns"], (*path, "columns"), "columns") if "columns" in o else None
    for col in picked or ():
        c.check_field(col, right, (*path, "columns"))
    left_cols, right_cols = c.frames[frame], c.frames[right]
    if left_cols is None or right_cols is None:
        return None
    added = picked if picked is not None else [col for col in right_cols if col not in right_on or left_on != right_on]
    names = join_column_names(left_cols, added, str(o.get("prefix", "")), right)
    return left_cols | set(names.values())


def join_column_names(left: Any, right: Sequence[str], prefix: str, right_name: str) -> dict[str, str]:
    """How a join names the right frame's columns: with `prefix` prepended, else suffixed `_<right>` on a clash."""
    if prefix:
        return {col: prefix + col for col in right}
    return {col: f"{col}_{right_name}" if col in left else col for col in right}


def _step_explode(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    if "column" in o:
        lists = {c.text(o["column"], (*path, "column"), "column"): None}
    elif isinstance(o.get("columns"), dict | list):
        cols = o["columns"]
        lists = dict(cols) if isinstance(cols, dict) else dict.fromkeys(cols)
    else:
        raise c.fail(path, "explode needs `column: NAME` or `columns: [NAMES]` / {NAME: label}")
    for col in lists:
        c.check_field(str(col), frame, (*path, "columns"))
    known = c.frames[frame]
    if known is None:
        return None
    out = set(known) - set(lists)
    if len(lists) > 1 or o.get("label"):
        out.add(str(o.get("label", "Source")))
    fields = o.get("fields")
    if fields is None:
        return None if len(lists) > 1 or o.get("prefix") is not None else out | set(lists)
    prefix = str(o.get("prefix", ""))
    out |= {prefix + f for f in c.names(fields, (*path, "fields"), "fields")}
    if len(lists) == 1:
        out.add(next(iter(lists)))
    return out


def _step_derive(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    columns = o.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise c.fail(path, "derive needs `columns: {Name: expression}`")
    known_now = c.frames[frame]
    known = set(known_now) if known_now is not None else None
    compiled = {}
    for name, text in columns.items():
        c.frames["__derive__"] = known
        compiled[name] = c.expr(text, (*path, "columns", name), "__derive__")
        if known is not None:
            known.add(name)  # later columns may use earlier ones
    c.frames.pop("__derive__", None)
    o["_compiled"] = compiled
    return known


def _step_filter(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    if "where" not in o:
        raise c.fail(path, "filter needs `where: expression`")
    o["_compiled"] = c.expr(o["where"], (*path, "where"), frame)
    return c.frames[frame]


def _step_sort(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    for name in c.names(o.get("by"), (*path, "by"), "sort by"):
        c.check_field(name.lstrip("-"), frame, (*path, "by"))
    return c.frames[frame]


def _step_group(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    by = c.names(o.get("by"), (*path, "by"), "group by")
    for name in by:
        c.check_field(name, frame, (*path, "by"))
    aggregate = o.get("aggregate")
    if not isinstance(aggregate, dict) or not aggregate:
        raise c.fail(path, "group needs `aggregate: {Name: sum(Field)}`")
    compiled = {}
    for name, text in aggregate.items():
        expr = c.expr(text, (*path, "aggregate", name), frame, aggregates=True)
        if expr.top_call is None:
            raise c.fail(
                (*path, "aggregate", name),
                f"aggregate {name} must be one of sum(), count(), average(), "
                "min(), max(), first(), last(), count_distinct(), list(), join()",
            )
        compiled[name] = expr
    o["_compiled"] = compiled
    return set(by) | set(aggregate)


def _step_select(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    names = c.names(o.get("columns"), (*path, "columns"), "select columns")
    for name in names:
        c.check_field(name, frame, (*path, "columns"))
    return set(names)


def _step_rename(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    mapping = o.get("columns")
    if not isinstance(mapping, dict) or not mapping:
        raise c.fail(path, "rename needs `columns: {Old: New}`")
    for old in mapping:
        c.check_field(old, frame, (*path, "columns", old))
    known = c.frames[frame]
    return None if known is None else {mapping.get(col, col) for col in known}


def _step_dedupe(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    for name in c.names(o.get("by"), (*path, "by"), "dedupe by"):
        c.check_field(name, frame, (*path, "by"))
    return c.frames[frame]


def _step_union(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    frames = c.names(o.get("frames"), (*path, "frames"), "union frames")
    if "as" not in o:
        raise c.fail(path, "union needs `as: NAME`")
    known = [c.frames[c.frame(f, (*path, "frames"))] for f in frames]
    if any(k is None for k in known):
        return None
    return set().union(*known)  # type: ignore[arg-type]


def _step_running(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    column = c.text(o.get("column"), (*path, "column"), "running column")
    if "of" not in o:
        raise c.fail(path, "running needs `of: expression` (what to add up)")
    o["_compiled"] = c.expr(o["of"], (*path, "of"), frame)
    for name in c.names(o["by"], (*path, "by"), "running by") if "by" in o else ():
        c.check_field(name, frame, (*path, "by"))
    known = c.frames[frame]
    return None if known is None else known | {column}


def _step_head(c: _Checker, o: dict[str, Any], frame: str, path: Path_) -> set[str] | None:
    if not isinstance(o.get("n"), int) or o["n"] < 0:
        raise c.fail(path, "head needs `n:` a whole number")
    return c.frames[frame]


_STEP_CHECKS = {
    "join": _step_join,
    "explode": _step_explode,
    "derive": _step_derive,
    "filter": _step_filter,
    "sort": _step_sort,
    "group": _step_group,
    "select": _step_select,
    "rename": _step_rename,
    "dedupe": _step_dedupe,
    "union": _step_union,
    "running": _step_running,
    "head": _step_head,
}

TAB_KEYS = (
    "id",
    "from",
    "name",
    "title",
    "columns",
    "split",
    "where",
    "rules",
    "info",
    "chart",
    "template",
    "freeze_header",
    "autofilter",
    "as_of",
)
COLUMN_KEYS = ("header", "field", "expr", "format", "width", "total", "link")
RULE_KEYS = ("when", "op", "value", "columns", "fill", "font_color", "bold")


def _check_tabs(c: _Checker, raw: Any, default_frame: str) -> list[TabSpec]:
    if not isinstance(raw, list) or not raw:
        raise c.fail(("tabs",), "tabs must be a non-empty list")
    tabs = []
    ids: set[str] = set()
    for i, item in enumerate(raw):
        path: Path_ = ("tabs", i)
        c.mapping(item, path, f"tab {i + 1}", TAB_KEYS, ("columns",))
        frame = c.frame(item.get("from", default_frame), (*path, "from"))
        tab_id = str(item.get("id", f"tab{i + 1}"))
        if not re.fullmatch(r"[A-Za-z0-9_-]+", tab_id) or tab_id in ids:
            raise c.fail((*path, "id"), f"tab id '{tab_id}' must be unique letters, digits, - or _")
        ids.add(tab_id)
        columns = _check_columns(c, item["columns"], frame, (*path, "columns"))
        headers = [col.header for col in columns]
        split = item.get("split")
        if split is not None:
            c.check_field(c.text(split, (*path, "split"), "split"), frame, (*path, "split"))
        tab = TabSpec(
            id=tab_id,
            frame=frame,
            name=c.template(item.get("name", item.get("title", tab_id)), (*path, "name"), frame),
            title=c.template(item.get("title", item.get("name", tab_id)), (*path, "title"), frame),
            columns=columns,
            split=split,
            where=c.expr(item["where"], (*path, "where"), frame) if "where" in item else None,
            rules=[_check_rule(c, r, headers, (*path, "rules", j)) for j, r in enumerate(item.get("rules") or [])],
            info=_check_info(c, item.get("info"), frame, (*path, "info")),
            chart=_check_chart(c, item.get("chart"), headers, (*path, "chart")),
            template=item.get("template"),
            freeze_header=bool(item.get("freeze_header", True)),
            autofilter=bool(item.get("autofilter", True)),
            as_of=c.template(item["as_of"], (*path, "as_of"), frame) if "as_of" in item else None,
            line=c.line(path),
        )
        tabs.append(tab)
    return tabs


def _check_columns(c: _Checker, raw: Any, frame: str, path: Path_) -> list[ColumnSpec]:
    if not isinstance(raw, list) or not raw:
        raise c.fail(path, "columns must be a non-empty list")
    out: list[ColumnSpec] = []
    for j, col in enumerate(raw):
        cpath = (*path, j)
        if isinstance(col, str):
            col = {"header": col, "field": col}
        c.mapping(col, cpath, f"column {j + 1}", COLUMN_KEYS, ("header",))
        if ("field" in col) == ("expr" in col):
            raise c.fail(cpath, f"column '{col['header']}' needs exactly one of `field` or `expr`")
        if "field" in col:
            c.check_field(str(col["field"]), frame, (*cpath, "field"))
            value = compile_expr(f"`{col['field']}`")
        else:
            value = c.expr(col["expr"], (*cpath, "expr"), frame)
        fmt = _enum(c, Format, col.get("format", "text"), (*cpath, "format"), "format")
        total = _enum(c, Total, col["total"], (*cpath, "total"), "total") if col.get("total") else None
        width = col.get("width")
        if width is not None and (not isinstance(width, int | float) or isinstance(width, bool) or width <= 0):
            raise c.fail((*cpath, "width"), "width must be a positive number of characters")
        link = None
        if "link" in col:
            spec = col["link"]
            if isinstance(spec, str):
                spec = {"url": spec}
            c.mapping(spec, (*cpath, "link"), "link", ("url", "text"), ("url",))
            link = LinkSpec(
                c.expr(spec["url"], (*cpath, "link", "url"), frame),
                c.expr(spec["text"], (*cpath, "link", "text"), frame) if "text" in spec else None,
            )
        out.append(ColumnSpec(str(col["header"]), value, fmt, width, total, link))
    headers = [o.header for o in out]
    dupes = {h for h in headers if headers.count(h) > 1}
    if dupes:
        raise c.fail(path, f"column header '{sorted(dupes)[0]}' appears twice")
    return out


def _enum(c: _Checker, enum: Any, value: Any, path: Path_, what: str) -> Any:
    options = [e.value for e in enum]
    if value not in options:
        raise c.fail(path, f"unknown {what} '{value}'{_hint(str(value), options)} ({what}s: {', '.join(options)})")
    return enum(value)


def _check_rule(c: _Checker, raw: Any, headers: list[str], path: Path_) -> RuleSpec:
    c.mapping(raw, path, "rule", RULE_KEYS, ("when", "op"))
    for header in [raw["when"], *(raw.get("columns") or [])]:
        if header not in headers:
            raise c.fail(
                path, f"rule names column '{header}', which is not a header of this tab{_hint(str(header), headers)}"
            )
    if raw["op"] not in RULE_OPS:
        raise c.fail((*path, "op"), f"unknown rule op '{raw['op']}' (ops: {', '.join(RULE_OPS)})")
    value = raw.get("value")
    if is_template(value):
        value = c.template(value, (*path, "value"), None)
    for key in ("fill", "font_color"):
        if raw.get(key) is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", str(raw[key])):
            raise c.fail((*path, key), f"{key} must be a colour like #FFF2CC")
    return RuleSpec(
        raw["when"],
        raw["op"],
        value,
        tuple(raw.get("columns") or ()),
        raw.get("fill", "#FFF2CC"),
        raw.get("font_color"),
        bool(raw.get("bold", False)),
    )


def _check_info(c: _Checker, raw: Any, frame: str, path: Path_) -> list[tuple[str, Template]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise c.fail(path, "info must be a mapping of label -> template")
    return [(str(label), c.template(value, (*path, label), frame)) for label, value in raw.items()]


def _check_chart(c: _Checker, raw: Any, headers: list[str], path: Path_) -> tuple[str, tuple[str, ...]] | None:
    if raw is None:
        return None
    c.mapping(raw, path, "chart", ("title", "columns"), ("columns",))
    columns = c.names(raw["columns"], (*path, "columns"), "chart columns")
    for header in columns:
        if header not in headers:
            raise c.fail(
                path, f"chart names column '{header}', which is not a header of this tab{_hint(header, headers)}"
            )
    return str(raw.get("title", "")), tuple(columns)


def _check_burst(c: _Checker, raw: Any, tabs: list[TabSpec], report: str) -> BurstSpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"by": raw}
    c.mapping(raw, ("burst",), "burst", ("by", "name", "enabled"), ("by",))
    by = c.text(raw["by"], ("burst", "by"), "burst by")
    for tab in tabs:
        c.check_field(by, tab.frame, ("burst", "by"))
    enabled = raw.get("enabled", True)
    if is_template(enabled):
        enabled = c.template(enabled, ("burst", "enabled"), None)
    name = c.template(raw.get("name", f"{report}-{{{{ value }}}}"), ("burst", "name"), tabs[0].frame)
    return BurstSpec(by, name, enabled)


def _check_demo(c: _Checker, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise c.fail(("demo",), "demo must be a mapping of parameter -> value or {endpoint, field, limit}")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        path = ("demo", name)
        if name not in c.params:
            raise c.fail(path, f"demo sets unknown parameter '{name}'{_hint(name, c.params)}")
        if isinstance(value, dict):
            c.mapping(value, path, f"demo {name}", ("endpoint", "field", "params", "limit"), ("endpoint", "field"))
            endpoint = str(value["endpoint"])
            columns, allowed = _kss_endpoint(c, f"demo {name}", endpoint, path)
            for key in value.get("params") or {}:
                _source_param(c, f"demo {name}", endpoint, key, value["params"][key], allowed, (*path, "params", key))
            c.frames["__demo__"] = columns
            c.check_field(str(value["field"]), "__demo__", (*path, "field"))
            c.origin["__demo__"] = f"endpoint:{endpoint}"
            out[name] = DemoValue(
                endpoint, str(value["field"]), dict(value.get("params") or {}), int(value.get("limit", 3))
            )
        else:
            try:
                out[name] = coerce_param(c.params[name], value)
            except ParameterError as exc:
                raise c.fail(path, exc.message) from None
    c.frames.pop("__demo__", None)
    return out


# ---------------------------------------------------------------- entry points

TOP_KEYS = ("name", "title", "description", "params", "demo", "sources", "transforms", "tabs", "burst", "timezone")


def parse_definition(
    text: str,
    file: str = "<definition>",
    *,
    endpoints: Mapping[str, Any] | None = None,
) -> Definition:
    """Validate a definition's text; raise one DefinitionError for the first mistake."""
    if endpoints is None:
        from sheetsync.apis.registry import ENDPOINTS

        endpoints = ENDPOINTS
    data, lines = _load_yaml(text, file)
    c = _Checker(file, lines, endpoints)
    c.mapping(data, (), "the definition", TOP_KEYS, ("name", "sources", "tabs"))
    name = c.text(data["name"], ("name",), "name")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise c.fail(("name",), f"name '{name}' must be lower-case letters, digits, - or _")
    _check_params(c, data.get("params"))
    _check_sources(c, data["sources"])
    steps = _check_steps(c, data.get("transforms"))
    default_frame = steps[-1].output if steps else next(iter(c.sources))
    tabs = _check_tabs(c, data["tabs"], default_frame)
    timezone = str(data.get("timezone", "America/Los_Angeles"))
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:
        raise c.fail(("timezone",), f"unknown time zone '{timezone}'") from None
    return Definition(
        name=name,
        title=str(data.get("title", name)),
        description=str(data.get("description", "")).strip(),
        params=c.params,
        sources=c.sources,
        steps=steps,
        tabs=tabs,
        burst=_check_burst(c, data.get("burst"), tabs, name),
        demo=_check_demo(c, data.get("demo")),
        timezone=timezone,
        file=file,
    )


def load_definition(path: str | Path, *, endpoints: Mapping[str, Any] | None = None) -> Definition:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read {path}: {exc.strerror}") from None
    return parse_definition(text, str(path), endpoints=endpoints)


def builtin_paths() -> dict[str, Path]:
    """Built-in report definitions by name (the package `sheetsync.reports`, i.e. reports/*.yaml)."""
    found: dict[str, Path] = {}
    try:
        root = resources.files("sheetsync.reports")
        entries = list(root.iterdir())
    except (ModuleNotFoundError, FileNotFoundError, TypeError):
        entries = list((Path(__file__).resolve().parent.parent / "reports").glob("*.yaml"))
    for entry in entries:
        if entry.name.endswith((".yaml", ".yml")):
            found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(found.items()))


def find_definition(report: str, *, endpoints: Mapping[str, Any] | None = None) -> Definition:
    """A built-in report by name, or a definition file by path."""
    builtins = builtin_paths()
    if report in builtins:
        return load_definition(builtins[report], endpoints=endpoints)
    path = Path(report)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise DefinitionError(f"no definition file {report}")
        return load_definition(path, endpoints=endpoints)
    raise DefinitionError(
        f"unknown report '{report}'{_hint(report, builtins)} (built-in: {', '.join(builtins)}; "
        "or give a path to a .yaml file)"
    )
