"""The second pass over a validated Definition: what spans several constructs.

Endpoints and their parameters (through the endpoint registry), literal and templated parameter
values against the API parameter's type, sources read only after they are declared (so no cycles),
the columns that flow from source to step to tab, and every name an expression or template reads.
Every problem is collected (file order), not just the first; defaults that depend on other parts
(a step's input frame, a tab's id, name and frame) are filled in on the way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sheetsync.apis import registry
from sheetsync.apis.registry import IDENTIFIER_FIELDS
from sheetsync.definition.formats import column_format
from sheetsync.definition.models import (
    ColumnSpec,
    Definition,
    DemoValue,
    FromSource,
    SourceSpec,
    StatementSpec,
    TabSpec,
)
from sheetsync.definition.params import coerce_param
from sheetsync.definition.source_text import Lines, Path_
from sheetsync.definition.steps import (
    Dedupe,
    Derive,
    Explode,
    Filter,
    Group,
    Head,
    Join,
    Rename,
    Running,
    Select,
    Sort,
    Step,
    UnionStep,
)
from sheetsync.errors import DefinitionError, ParameterError
from sheetsync.expr import Expr, Template, compile_template
from sheetsync.model import NUMERIC_FORMATS, Format, Total
from sheetsync.suggest import did_you_mean

Columns = set[str] | None  # the known columns of a frame; None when they cannot be known

# A value of each report parameter type, to ask the API parameter's encoder whether the type fits.
_SAMPLES: dict[str, Any] = {
    "int": 1,
    "int_list": [1, 2],
    "str": "text",
    "str_list": ["a", "b"],
    "date": date(2026, 1, 31),
    "decimal": Decimal("1.5"),
    "bool": True,
}


class Checker:
    """Collects the problems of one definition while following its frames' columns."""

    def __init__(self, definition: Definition, lines: Lines, endpoints: Mapping[str, Any]) -> None:
        self.d = definition
        self.lines = lines
        self.endpoints = endpoints
        self.errors: list[DefinitionError] = []
        self.frames: dict[str, Columns] = {}
        self.origin: dict[str, str] = {}  # frame -> "endpoint:X" or "frame:X"

    def fail(self, path: Path_, message: str) -> None:
        self.errors.append(DefinitionError(message, file=self.d.file, line=self.lines.line(path)))

    def frame(self, name: str, path: Path_) -> str:
        """`name` when it is a known frame; otherwise a problem, and a frame of unknown columns."""
        if name not in self.frames:
            self.fail(
                path,
                f"unknown frame '{name}'{did_you_mean(name, self.frames)} (sources and `as:` names of earlier steps)",
            )
            self.frames[name] = None
        return name

    def field(self, column: str, frame: str, path: Path_) -> None:
        columns = self.frames.get(frame)
        if columns is None or column in columns:
            return
        origin = self.origin.get(frame, "")
        where = (
            f"is not documented for endpoint '{origin.removeprefix('endpoint:')}'"
            if origin.startswith("endpoint:")
            else f"is not a column of frame '{frame}'"
        )
        self.fail(path, f"field '{column}' {where}{did_you_mean(column, columns)}")

    def fields(self, columns: Iterable[str], frame: str, path: Path_) -> None:
        for column in columns:
            self.field(column, frame, path)

    def expr(self, expr: Expr | None, path: Path_, frame: str | None, template_names: Sequence[str] = ()) -> None:
        """Every name the expression reads: `params.x` declared, fields in `frame` (None: params only)."""
        for name in sorted(expr.names) if expr is not None else ():
            self.name(name, path, frame, template_names)

    def template(self, template: Template | None, path: Path_, frame: str | None) -> None:
        for part in template.exprs if template is not None else ():
            self.expr(part, path, frame, ("value", "report"))

    def name(self, name: tuple[str, ...], path: Path_, frame: str | None, template_names: Sequence[str]) -> None:
        root = name[0]
        if root == "params":
            given = name[1] if len(name) > 1 else ""
            if given not in self.d.params:
                self.fail(path, f"unknown parameter 'params.{given}'{did_you_mean(given, self.d.params)}")
        elif root in template_names:
            pass
        elif frame is None:
            self.fail(path, f"'{'.'.join(name)}' is not available here (only params.NAME is)")
        else:
            self.field(root, frame, path)


def check_definition(definition: Definition, lines: Lines, endpoints: Mapping[str, Any]) -> list[DefinitionError]:
    """Every cross-construct problem of a validated definition, in file order; fills in the defaults."""
    c = Checker(definition, lines, endpoints)
    _check_sources(c)
    _check_steps(c)
    _check_tabs(c)
    _check_burst(c)
    _check_demo(c)
    unique: dict[tuple[int | None, str], DefinitionError] = {}
    for error in c.errors:
        unique.setdefault((error.line, error.message), error)  # a name read twice on one line: one error
    return sorted(unique.values(), key=lambda e: e.line or 0)


# ---------------------------------------------------------------- sources


def _check_sources(c: Checker) -> None:
    for name, source in c.d.sources.items():
        path: Path_ = ("sources", name)
        source._line = c.lines.line(path)
        if source.api == "kotis":
            _documented_kotis_names(source)
        columns, allowed = _endpoint(c, source.api, source.endpoint, f"source '{name}'", path)
        for key, value in source.params.items():
            _check_query_param(c, source, key, value, allowed, (*path, "params", key))
        for pname, param in (allowed or {}).items():
            if getattr(param, "required", False) and pname not in source.params:
                c.fail(path, f"source '{name}': endpoint '{source.endpoint}' requires parameter {pname}")
        c.frames[name] = columns
        c.origin[name] = f"endpoint:{source.endpoint}"


def _endpoint(c: Checker, api: str, name: str, who: str, path: Path_) -> tuple[Columns, dict[str, Any] | None]:
    """The documented fields and query parameters of an endpoint; (None, None) after a problem."""
    if api == "kotis":
        return _kotis_endpoint(c, name, who, path)
    found = c.endpoints.get(name)
    if found is None:
        lists = [e for e, spec in c.endpoints.items() if not getattr(spec, "single", False)]
        c.fail((*path, "endpoint"), f"{who}: unknown KSS endpoint '{name}'{did_you_mean(name, lists)}")
        return None, None
    if getattr(found, "single", False) or "{" in name:
        c.fail(
            (*path, "endpoint"),
            f"{who}: '{name}' fetches one record per request; use the list endpoint with an IDs parameter instead",
        )
        return None, None
    if getattr(found, "method", "GET") != "GET":
        c.fail((*path, "endpoint"), f"{who}: reports can only read (GET) endpoints")
        return None, None
    fields = set(getattr(found, "fields", ()) or ())
    params = {k: v for k, v in found.params.items() if getattr(v, "location", "query") == "query"}
    return (fields or None), params


def _documented_kotis_names(source: SourceSpec) -> None:
    """Old Kotis endpoint and parameter names become the registry's (a DeprecatedName warning each)."""
    try:
        ep = registry.kotis_endpoint(source.endpoint)
    except ParameterError:
        return  # reported by _kotis_endpoint
    source.endpoint = ep.name
    old_names = registry.KOTIS_OLD_PARAMS.get(ep.name, {})
    for old in [name for name in source.params if name in old_names]:
        registry.deprecated(old, old_names[old], f"{ep.name} parameter")
        source.params[old_names[old]] = source.params.pop(old)


def _kotis_endpoint(c: Checker, name: str, who: str, path: Path_) -> tuple[Columns, dict[str, Any] | None]:
    """The query parameters of a Kotis GET from the registry; columns are not checked, because Kotis
    rows carry whatever attributes the API adds."""
    try:
        found = registry.kotis_endpoint(name)
    except ParameterError:
        names = [*registry.KOTIS_GETS, *registry.KOTIS_OLD_NAMES]
        c.fail((*path, "endpoint"), f"{who}: unknown Kotis endpoint '{name}'{did_you_mean(name, names)}")
        return None, None
    if found.method != "GET":
        c.fail((*path, "endpoint"), f"{who}: reports can only read (GET) endpoints")
        return None, None
    return None, dict(found.params)


def _check_query_param(
    c: Checker, source: SourceSpec, key: str, value: Any, allowed: Mapping[str, Any] | None, path: Path_
) -> None:
    if allowed is None:
        return
    if key not in allowed:
        names = ", ".join(allowed) or "none"
        c.fail(
            path,
            f"source '{source.name}': endpoint '{source.endpoint}' has no parameter '{key}'"
            f"{did_you_mean(key, allowed)} (parameters: {names})",
        )
        return
    param = allowed[key]
    if isinstance(value, FromSource):
        _check_dependent(c, value, path)
    elif isinstance(value, Template):
        c.template(value, path, None)
        _check_templated_type(c, source, key, value, param, path)
    elif hasattr(param, "encode"):
        try:
            param.encode(value, source.endpoint)
        except ParameterError as exc:
            c.fail(path, exc.message)


def _check_dependent(c: Checker, value: FromSource, path: Path_) -> None:
    if value.source not in c.d.sources or value.source not in c.frames:
        c.fail(
            path,
            f"a dependent parameter reads source '{value.source}', which is not declared above it"
            f"{did_you_mean(value.source, c.frames)}",
        )
        return
    c.fields((p.split(".")[0] for p in value.paths), value.source, path)


def _check_templated_type(c: Checker, source: SourceSpec, key: str, value: Template, param: Any, path: Path_) -> None:
    """`{{ params.x }}` into an API parameter: the report parameter's type must be one the API takes."""
    match = re.fullmatch(r"\s*params\.(\w+)\s*", value.exprs[0].text) if value.is_single else None
    spec = c.d.params.get(match.group(1)) if match else None
    if spec is None or not hasattr(param, "encode"):
        return
    try:
        param.encode(_SAMPLES[spec.type], source.endpoint)
    except ParameterError:
        c.fail(
            path,
            f"source '{source.name}': parameter {key} of endpoint '{source.endpoint}' takes {param.type}, "
            f"but params.{spec.name} is a {spec.type} parameter",
        )


# ---------------------------------------------------------------- transform steps


def _check_steps(c: Checker) -> None:
    previous = next(iter(c.d.sources))
    for i, step in enumerate(c.d.transforms):
        path: Path_ = ("transforms", i, step.kind)
        step._line = c.lines.line(path)
        if step.frame is None or isinstance(step, UnionStep):
            step.frame = previous
        else:
            c.frame(step.frame, (*path, "frame"))
        columns = _STEP_CHECKS[type(step)](c, step, path)
        c.frames[step.output] = columns
        c.origin[step.output] = f"frame:{step.output}"
        previous = step.output


def _same(c: Checker, step: Step) -> Columns:
    return c.frames[step.frame]


def _check_join(c: Checker, step: Join, path: Path_) -> Columns:
    right = c.frame(step.with_, (*path, "with"))
    c.fields(step.left_keys, step.frame, (*path, "on" if step.on else "left_on"))
    c.fields(step.right_keys, right, (*path, "on" if step.on else "right_on"))
    c.fields(step.columns or (), right, (*path, "columns"))
    left_cols, right_cols = c.frames[step.frame], c.frames[right]
    if left_cols is None or right_cols is None:
        return None
    same_keys = step.left_keys == step.right_keys
    added = (
        step.columns
        if step.columns is not None
        else [k for k in right_cols if k not in step.right_keys or not same_keys]
    )
    names = join_column_names(left_cols, added, step.prefix, right)
    return left_cols | set(names.values())


def join_column_names(left: Any, right: Sequence[str], prefix: str, right_name: str) -> dict[str, str]:
    """How a join names the right frame's columns: with `prefix` prepended, else suffixed `_<right>` on a clash."""
    if prefix:
        return {col: prefix + col for col in right}
    return {col: f"{col}_{right_name}" if col in left else col for col in right}


def _check_explode(c: Checker, step: Explode, path: Path_) -> Columns:
    lists = step.lists
    c.fields(lists, step.frame, (*path, "column" if step.column is not None else "columns"))
    known = c.frames[step.frame]
    if known is None:
        return None
    out = set(known) - set(lists)
    if len(lists) > 1 or step.label:
        out.add(step.label or "Source")
    if step.fields is None:
        return None if len(lists) > 1 or step.prefix is not None else out | set(lists)
    out |= {(step.prefix or "") + f for f in step.fields}
    if len(lists) == 1:
        out.add(next(iter(lists)))
    return out


def _check_derive(c: Checker, step: Derive, path: Path_) -> Columns:
    known = _same(c, step)
    known = set(known) if known is not None else None
    for name, expr in step.columns.items():
        c.frames["__derive__"] = known
        c.expr(expr, (*path, "columns", name), "__derive__")
        if known is not None:
            known.add(name)  # later columns may use earlier ones
    c.frames.pop("__derive__", None)
    return known


def _check_filter(c: Checker, step: Filter, path: Path_) -> Columns:
    c.expr(step.where, (*path, "where"), step.frame)
    return _same(c, step)


def _check_sort(c: Checker, step: Sort, path: Path_) -> Columns:
    c.fields((name.lstrip("-") for name in step.by), step.frame, (*path, "by"))
    return _same(c, step)


def _check_group(c: Checker, step: Group, path: Path_) -> Columns:
    c.fields(step.by, step.frame, (*path, "by"))
    for name, expr in step.aggregate.items():
        c.expr(expr, (*path, "aggregate", name), step.frame)
    return set(step.by) | set(step.aggregate)


def _check_select(c: Checker, step: Select, path: Path_) -> Columns:
    c.fields(step.columns, step.frame, (*path, "columns"))
    return set(step.columns)


def _check_rename(c: Checker, step: Rename, path: Path_) -> Columns:
    for old in step.columns:
        c.field(old, step.frame, (*path, "columns", old))
    known = _same(c, step)
    return None if known is None else {step.columns.get(col, col) for col in known}


def _check_dedupe(c: Checker, step: Dedupe, path: Path_) -> Columns:
    c.fields(step.by, step.frame, (*path, "by"))
    return _same(c, step)


def _check_union(c: Checker, step: UnionStep, path: Path_) -> Columns:
    known = [c.frames[c.frame(f, (*path, "frames"))] for f in step.frames]
    if any(k is None for k in known):
        return None
    return set().union(*known)  # type: ignore[arg-type]


def _check_running(c: Checker, step: Running, path: Path_) -> Columns:
    c.expr(step.of, (*path, "of"), step.frame)
    c.fields(step.by or (), step.frame, (*path, "by"))
    known = _same(c, step)
    return None if known is None else known | {step.column}


def _check_head(c: Checker, step: Head, path: Path_) -> Columns:
    return _same(c, step)


_STEP_CHECKS: dict[type[Step], Callable[[Checker, Any, Path_], Columns]] = {
    Join: _check_join,
    Explode: _check_explode,
    Derive: _check_derive,
    Filter: _check_filter,
    Sort: _check_sort,
    Group: _check_group,
    Select: _check_select,
    Rename: _check_rename,
    Dedupe: _check_dedupe,
    UnionStep: _check_union,
    Running: _check_running,
    Head: _check_head,
}


# ---------------------------------------------------------------- tabs, burst, demo


def _check_tabs(c: Checker) -> None:
    steps = c.d.transforms
    default_frame = steps[-1].output if steps else next(iter(c.d.sources))
    ids: set[str] = set()
    for i, tab in enumerate(c.d.tabs):
        path: Path_ = ("tabs", i)
        tab._line = c.lines.line(path)
        tab.id = tab.id or f"tab{i + 1}"
        if tab.id in ids:
            c.fail((*path, "id"), f"tab id '{tab.id}' must be unique letters, digits, - or _")
        ids.add(tab.id)
        tab.frame = c.frame(tab.frame, (*path, "from")) if tab.frame is not None else default_frame
        _check_tab(c, tab, path)


def _check_tab(c: Checker, tab: TabSpec, path: Path_) -> None:
    frame = tab.frame
    for j, column in enumerate(tab.columns):
        cpath = (*path, "columns", j)
        if column.field is not None:
            c.field(column.field, frame, (*cpath, "field"))
        c.expr(column.expr, (*cpath, "expr"), frame)
        if column.link is not None:
            c.expr(column.link.url, (*cpath, "link", "url"), frame)
            c.expr(column.link.text, (*cpath, "link", "text"), frame)
        _check_column_format(c, column, cpath)
    headers = [column.header for column in tab.columns]
    dupes = sorted({h for h in headers if headers.count(h) > 1})
    if dupes:
        c.fail((*path, "columns"), f"column header '{dupes[0]}' appears twice")
    if tab.split is not None:
        c.field(tab.split, frame, (*path, "split"))
    default_name = compile_template(tab.id)
    tab.name, tab.title = tab.name or tab.title or default_name, tab.title or tab.name or default_name
    for key in ("name", "title", "as_of"):
        c.template(getattr(tab, key), (*path, key), frame)
    c.expr(tab.where, (*path, "where"), frame)
    for label, template in tab.info.items():
        c.template(template, (*path, "info", label), frame)
    if tab.statement is not None:
        _check_statement(c, tab.statement, (*path, "statement"), frame)
    for j, rule in enumerate(tab.rules):
        rpath = (*path, "rules", j)
        for header in (rule.when, *rule.columns):
            if header not in headers:
                c.fail(
                    rpath,
                    f"rule names column '{header}', which is not a header of this tab{did_you_mean(header, headers)}",
                )
        if isinstance(rule.value, Template):
            c.template(rule.value, (*rpath, "value"), None)
    for header in tab.chart.columns if tab.chart else ():
        if header not in headers:
            c.fail(
                (*path, "chart"),
                f"chart names column '{header}', which is not a header of this tab{did_you_mean(header, headers)}",
            )


def _check_column_format(c: Checker, column: ColumnSpec, path: Path_) -> None:
    """A sum or average over text adds nothing in a spreadsheet; an identifier in a number format loses digits."""
    fmt = column_format(column)
    if column.total in (Total.SUM, Total.AVERAGE) and fmt is Format.TEXT:
        c.fail(
            (*path, "total"),
            f"column '{column.header}': total: {column.total.value} over a text column computes 0 in a spreadsheet; "
            "give it format: currency, decimal or integer",
        )
    if column.field in IDENTIFIER_FIELDS and fmt in NUMERIC_FORMATS:
        c.fail(
            (*path, "format"),
            f"column '{column.header}': {column.field} is an identifier (text in the API document); "
            f"format: {fmt.value} would round long values: leave format out, or use text",
        )


def _check_statement(c: Checker, statement: StatementSpec, path: Path_, frame: str) -> None:
    for j, line in enumerate(statement.customer):
        c.template(line, (*path, "customer", j), frame)
    for key in ("facts", "band"):
        for label, template in getattr(statement, key).items():
            c.template(template, (*path, key, label), frame)
    c.template(statement.amount_due, (*path, "amount_due"), frame)


def _check_burst(c: Checker) -> None:
    burst = c.d.burst
    if burst is None:
        return
    for tab in c.d.tabs:
        c.field(burst.by, tab.frame, ("burst", "by"))
    if burst.name is None:
        burst.name = compile_template(f"{c.d.name}-{{{{ value }}}}")
    c.template(burst.name, ("burst", "name"), c.d.tabs[0].frame)
    if isinstance(burst.enabled, Template):
        c.template(burst.enabled, ("burst", "enabled"), None)


def _check_demo(c: Checker) -> None:
    for name, value in c.d.demo.items():
        path: Path_ = ("demo", name)
        if name not in c.d.params:
            c.fail(path, f"demo sets unknown parameter '{name}'{did_you_mean(name, c.d.params)}")
        elif isinstance(value, DemoValue):
            _check_demo_query(c, name, value, path)
        else:
            try:
                c.d.demo[name] = coerce_param(c.d.params[name], value)
            except ParameterError as exc:
                c.fail(path, exc.message)


def _check_demo_query(c: Checker, name: str, value: DemoValue, path: Path_) -> None:
    columns, allowed = _endpoint(c, "kss", value.endpoint, f"demo {name}", path)
    if allowed is None:
        return
    for key, given in value.params.items():
        if key not in allowed:
            c.fail(
                (*path, "params", key),
                f"demo {name}: endpoint '{value.endpoint}' has no parameter '{key}'{did_you_mean(key, allowed)}",
            )
        elif hasattr(allowed[key], "encode"):
            try:
                allowed[key].encode(given, value.endpoint)
            except ParameterError as exc:
                c.fail((*path, "params", key), exc.message)
    c.frames["__demo__"] = columns
    c.origin["__demo__"] = f"endpoint:{value.endpoint}"
    c.field(value.field, "__demo__", (*path, "field"))
    c.frames.pop("__demo__", None)
