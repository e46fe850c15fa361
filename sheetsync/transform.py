"""Records -> pandas frames, then the definition's steps: join, explode, derive, filter, sort, group ...

The steps work on plain rows (`Table`: column names and one dict per row holding every column); each
frame becomes a pandas DataFrame once, after the last step, not once per step. Frames hold `object`
columns only, so `Decimal` money, `int` IDs, dates and nested lists stay exactly as the API client
typed them (no float, no NaN: a missing value is `None`). Joins, sorting and grouping compare values
in Python, so `None` keys never match each other and sort last; a join is one hash index of the
right side (pandas' merge would need float-free, type-blind keys built first).
Steps never change a row they were given: a step that changes values builds new rows, so frames
may share rows safely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from sheetsync.definition import Definition, join_column_names
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
from sheetsync.errors import RenderError
from sheetsync.expr import Expr, ExprError, _comparable, _text, mapping_env, to_decimal, truthy

Frames = dict[str, pd.DataFrame]
Row = dict[str, Any]


@dataclass
class Table:
    """Rows between steps: `columns` in order, and rows that each hold every one of them."""

    columns: list[str]
    rows: list[Row]

    def frame(self) -> pd.DataFrame:
        return _frame([[row.get(c) for c in self.columns] for row in self.rows], self.columns)


Tables = dict[str, Table]


def to_table(records: Sequence[Mapping[str, Any]], columns: Iterable[str] = ()) -> tuple[Table, list[str]]:
    """A table of `records` with every documented column present; also the documented columns no record had."""
    wanted = list(dict.fromkeys(columns))
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    missing = [c for c in wanted if c not in seen] if records else []
    order = wanted + [c for c in seen if c not in wanted]
    return Table(order, [{c: record.get(c) for c in order} for record in records]), missing


def to_frame(records: Sequence[Mapping[str, Any]], columns: Iterable[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """A frame of `records` with every documented column present; also the documented columns no record had."""
    table, missing = to_table(records, columns)
    return table.frame(), missing


def _complete(rows: list[Row], columns: list[str]) -> list[Row]:
    """`rows` with every column present (None where a row lacks one)."""
    return [row if len(row) == len(columns) else {c: row.get(c) for c in columns} for row in rows]


def _frame(rows: list[list[Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame if len(columns) else pd.DataFrame(index=range(len(rows)))


def from_records(records: list[dict[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    order = list(columns) if columns is not None else list(dict.fromkeys(k for r in records for k in r))
    return _frame([[r.get(c) for c in order] for r in records], order)


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts. One object array for the whole frame: `itertuples` indexes every
    column of every frame again, which dominated the layout of many small (burst) frames."""
    columns = list(frame.columns)
    return [dict(zip(columns, row, strict=True)) for row in frame.to_numpy(dtype=object).tolist()]


def build_frames(
    definition: Definition,
    records: Mapping[str, list[dict[str, Any]]],
    documented: Mapping[str, Sequence[str]],
    warnings: list[str],
    *,
    context: Mapping[str, Any] | None = None,
) -> Frames:
    """Frames of every source, then every step applied in order (on rows; one DataFrame per frame at the end)."""
    tables: Tables = {}
    for name, source in definition.sources.items():
        table, missing = to_table(records.get(name, []), documented.get(name, ()))
        if missing:
            warnings.append(
                f"{source.endpoint}: documented field(s) missing from the data, shown empty: {', '.join(missing)}"
            )
        tables[name] = table
    for step in definition.steps:
        try:
            tables[step.output] = STEPS[type(step)](tables, step, context or {})
        except ExprError as exc:
            where = f"{definition.file}:{step.line}: " if step.line else ""
            raise RenderError(f"{where}{step.kind}: {exc.message}") from None
    return {name: table.frame() for name, table in tables.items()}


def row_env(row: Mapping[str, Any], context: Mapping[str, Any]) -> Callable[[tuple[str, ...]], Any]:
    """Names resolve to the row's fields first, then to the context (params, today ...)."""
    base = mapping_env(context)

    def resolve(path: tuple[str, ...]) -> Any:
        if path[0] in row:
            value = row[path[0]]
            return mapping_env({"v": value})(("v", *path[1:])) if len(path) > 1 else value
        return base(path)

    return resolve


def evaluate(expr: Expr, frame: pd.DataFrame, context: Mapping[str, Any]) -> list[Any]:
    return [expr.evaluate(row_env(row, context)) for row in records_of(frame)]


# ---------------------------------------------------------------- steps


def _join(tables: Tables, step: Join, context: Mapping[str, Any]) -> Table:
    left, right = tables[step.frame], tables[step.with_]
    left_on, right_on, how = step.left_keys, step.right_keys, step.how
    picked = (
        list(step.columns)
        if step.columns is not None
        else [c for c in right.columns if c not in right_on or left_on != right_on]
    )
    names = join_column_names(set(left.columns), picked, step.prefix, step.with_)
    columns = list(dict.fromkeys([*left.columns, *names.values()]))
    index = _index(right.rows, right_on)
    added = {id(hit): {names[c]: hit.get(c) for c in picked} for hits in index.values() for hit in hits}
    out: list[Row] = []
    matched: set[int] = set()
    empty = dict.fromkeys(names.values())
    single = len(left_on) == 1 and left_on[0]
    for row in left.rows:
        key = (match_key(row.get(single)),) if single else tuple(match_key(row.get(c)) for c in left_on)
        hits = index.get(key, ()) if None not in key else ()
        for hit in hits:
            matched.add(id(hit))
            out.append({**row, **added[id(hit)]})
        if not hits and how in ("left", "outer"):
            out.append({**row, **empty})
    if how in ("right", "outer"):
        for hits in index.values():
            for hit in hits:
                if id(hit) not in matched:
                    base = dict.fromkeys(left.columns)
                    base.update({lc: hit.get(rc) for lc, rc in zip(left_on, right_on, strict=True)})
                    out.append({**base, **added[id(hit)]})
    return Table(columns, out)


def _index(rows: list[Row], on: Sequence[str]) -> dict[tuple[Any, ...], list[Row]]:
    """Rows by their join key (rows with a null key part are left out: null never matches)."""
    index: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        key = tuple(match_key(row.get(c)) for c in on)
        if None not in key:
            index.setdefault(key, []).append(row)
    return index


def match_key(value: Any) -> Any:
    """Join keys compare by value: 12, Decimal("12") and "12" meet."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value  # equal to and hashed like the Decimal of the same value
    if isinstance(value, Decimal | float):
        return to_decimal(value)
    if isinstance(value, str):
        number = to_decimal(value) if value.strip().lstrip("-").replace(".", "", 1).isdigit() else None
        return number if number is not None else value
    return value


def _explode(tables: Tables, step: Explode, context: Mapping[str, Any]) -> Table:
    """One row per item of a list column (or of several, labelled); dict items become columns."""
    lists = step.lists
    label = step.label or ("Source" if len(lists) > 1 else None)
    prefix = step.prefix or ""
    source = tables[step.frame]
    out: list[Row] = []
    for row in source.rows:
        base = {k: v for k, v in row.items() if k not in lists}
        for column, name in lists.items():
            items = row.get(column)
            for item in items if isinstance(items, list | tuple) else ([] if items is None else [items]):
                new = dict(base)
                if label:
                    new[label] = name if name is not None else column
                if isinstance(item, Mapping):
                    new.update({prefix + str(k): v for k, v in item.items()})
                    if len(lists) == 1:
                        new[column] = None
                else:
                    new[column if len(lists) == 1 else prefix + "Value"] = item
                out.append(new)
    columns = [c for c in source.columns if c not in lists]
    if label:
        columns.append(label)
    for field in step.fields or []:
        columns.append(prefix + field)
    if len(lists) == 1:
        columns.append(next(iter(lists)))
    extra = dict.fromkeys(k for r in out for k in r if k not in columns)
    columns = list(dict.fromkeys([*columns, *extra]))
    return Table(columns, _complete(out, columns))


def _derive(tables: Tables, step: Derive, context: Mapping[str, Any]) -> Table:
    source = tables[step.frame]
    compiled: dict[str, Expr] = step.columns
    rows = [dict(row) for row in source.rows]
    for row in rows:
        env = row_env(row, context)
        for name, expr in compiled.items():
            row[name] = expr.evaluate(env)
    return Table(list(dict.fromkeys([*source.columns, *compiled])), rows)


def _filter(tables: Tables, step: Filter, context: Mapping[str, Any]) -> Table:
    source = tables[step.frame]
    rows = [row for row in source.rows if truthy(step.where.evaluate(row_env(row, context)))]
    return Table(list(source.columns), rows)


def sort_key(value: Any) -> tuple[int, Any]:
    """Nulls last; numbers by value; dates and text as themselves."""
    if value is None:
        return (2, 0)
    if isinstance(value, bool):
        return (0, Decimal(int(value)))
    if isinstance(value, int | float | Decimal):
        return (0, _comparable(value, value)[0])
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


def sort_rows(rows: list[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    """Rows sorted by the columns `by` ("-Name" descending): one stable sort per run of columns with
    the same direction; a column whose values do not compare (dates and text) sorts as text."""
    for columns, descending in reversed(_runs(by)):
        try:
            rows = sorted(rows, key=_natural_key(columns), reverse=descending)
        except TypeError:
            for column in reversed(columns):
                try:
                    rows = sorted(rows, key=_natural_key([column]), reverse=descending)
                except TypeError:
                    rows = sorted(rows, key=_text_key(column), reverse=descending)
    return rows


def _runs(by: Sequence[str]) -> list[tuple[list[str], bool]]:
    """["A", "B", "-C"] -> [(["A", "B"], False), (["C"], True)]."""
    runs: list[tuple[list[str], bool]] = []
    for name in by:
        descending = name.startswith("-")
        if runs and runs[-1][1] == descending:
            runs[-1][0].append(name.lstrip("-"))
        else:
            runs.append(([name.lstrip("-")], descending))
    return runs


def _natural_key(columns: list[str]) -> Callable[[dict[str, Any]], tuple[tuple[int, Any], ...]]:
    return lambda row: tuple(sort_key(row.get(column)) for column in columns)


def _text_key(column: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    return lambda row: (row.get(column) is None, _text(row.get(column)) or "")


def _sort(tables: Tables, step: Sort, context: Mapping[str, Any]) -> Table:
    source = tables[step.frame]
    return Table(list(source.columns), sort_rows(source.rows, step.by))


def group_rows(rows: list[dict[str, Any]], by: Sequence[str]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(match_key(row.get(c)) for c in by), []).append(row)
    return groups


def _aggregate(name: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if name == "count":
        return len(present)
    if name == "count_distinct":
        return len({match_key(v) for v in present})
    if name in ("first", "last"):
        return (present[0] if name == "first" else present[-1]) if present else None
    if name == "list":
        return present
    if name == "join":
        return ", ".join(_text(v) or "" for v in present)
    if name in ("min", "max"):
        return (min if name == "min" else max)(present, key=sort_key) if present else None
    numbers = [d for d in (to_decimal(v) for v in present) if d is not None]
    if name == "sum":
        return sum(numbers, Decimal(0))
    return sum(numbers, Decimal(0)) / len(numbers) if numbers else None  # average


def _group(tables: Tables, step: Group, context: Mapping[str, Any]) -> Table:
    by = step.by
    out = []
    for rows in group_rows(tables[step.frame].rows, by).values():
        new = {c: rows[0].get(c) for c in by}
        for name, expr in step.aggregate.items():
            func, args = expr.top_call  # type: ignore[misc]  # an Aggregate always has one
            values = [1] * len(rows) if not args else [args[0].evaluate(row_env(r, context)) for r in rows]
            new[name] = _aggregate(func, values)
        out.append(new)
    return Table(list(dict.fromkeys([*by, *step.aggregate])), out)


def _select(tables: Tables, step: Select, context: Mapping[str, Any]) -> Table:
    names = list(step.columns)
    return Table(names, [{c: row.get(c) for c in names} for row in tables[step.frame].rows])


def _rename(tables: Tables, step: Rename, context: Mapping[str, Any]) -> Table:
    source, renames = tables[step.frame], dict(step.columns)
    columns = [renames.get(c, c) for c in source.columns]
    return Table(columns, [{renames.get(k, k): v for k, v in row.items()} for row in source.rows])


def _dedupe(tables: Tables, step: Dedupe, context: Mapping[str, Any]) -> Table:
    source = tables[step.frame]
    groups = group_rows(source.rows, step.by)
    return Table(list(source.columns), [rows[0] for rows in groups.values()])


def _union(tables: Tables, step: UnionStep, context: Mapping[str, Any]) -> Table:
    parts = [tables[name] for name in step.frames]
    columns = list(dict.fromkeys(c for p in parts for c in p.columns))
    return Table(columns, _complete([r for p in parts for r in p.rows], columns))


def _running(tables: Tables, step: Running, context: Mapping[str, Any]) -> Table:
    source = tables[step.frame]
    by = step.by or []
    totals: dict[tuple[Any, ...], Decimal] = {}
    rows = [dict(row) for row in source.rows]
    for row in rows:
        key = tuple(match_key(row.get(c)) for c in by)
        amount = to_decimal(step.of.evaluate(row_env(row, context))) or Decimal(0)
        totals[key] = totals.get(key, Decimal(0)) + amount
        row[step.column] = totals[key]
    return Table(list(dict.fromkeys([*source.columns, step.column])), rows)


def _head(tables: Tables, step: Head, context: Mapping[str, Any]) -> Table:
    source = tables[step.frame]
    return Table(list(source.columns), source.rows[: step.n])  # as pandas head: a negative n drops the last rows


STEPS: dict[type[Step], Callable[[Tables, Any, Mapping[str, Any]], Table]] = {
    Join: _join,
    Explode: _explode,
    Derive: _derive,
    Filter: _filter,
    Sort: _sort,
    Group: _group,
    Select: _select,
    Rename: _rename,
    Dedupe: _dedupe,
    UnionStep: _union,
    Running: _running,
    Head: _head,
}
