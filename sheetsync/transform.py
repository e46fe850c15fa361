"""Records -> pandas frames, then the definition's steps: join, explode, derive, filter, sort, group ...

Frames hold `object` columns only, so `Decimal` money, `int` IDs, dates and nested lists stay exactly
as the API client typed them (no float, no NaN: a missing value is `None`). Joins, sorting and
grouping compare values in Python, so `None` keys never match each other and sort last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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


def to_frame(records: Sequence[Mapping[str, Any]], columns: Iterable[str] = ()) -> tuple[pd.DataFrame, list[str]]:
    """A frame of `records` with every documented column present; also the documented columns no record had."""
    wanted = list(dict.fromkeys(columns))
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record))
    missing = [c for c in wanted if c not in seen] if records else []
    order = wanted + [c for c in seen if c not in wanted]
    rows = [[record.get(c) for c in order] for record in records]
    return _frame(rows, order), missing


def _frame(rows: list[list[Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame if len(columns) else pd.DataFrame(index=range(len(rows)))


def from_records(records: list[dict[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    order = list(columns) if columns is not None else list(dict.fromkeys(k for r in records for k in r))
    return _frame([[r.get(c) for c in order] for r in records], order)


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.itertuples(index=False, name=None)]


def build_frames(
    definition: Definition,
    records: Mapping[str, list[dict[str, Any]]],
    documented: Mapping[str, Sequence[str]],
    warnings: list[str],
    *,
    context: Mapping[str, Any] | None = None,
) -> Frames:
    """Frames of every source, then every step applied in order."""
    frames: Frames = {}
    for name, source in definition.sources.items():
        frame, missing = to_frame(records.get(name, []), documented.get(name, ()))
        if missing:
            warnings.append(
                f"{source.endpoint}: documented field(s) missing from the data, shown empty: {', '.join(missing)}"
            )
        frames[name] = frame
    for step in definition.steps:
        try:
            frames[step.output] = STEPS[type(step)](frames, step, context or {})
        except ExprError as exc:
            where = f"{definition.file}:{step.line}: " if step.line else ""
            raise RenderError(f"{where}{step.kind}: {exc.message}") from None
    return frames


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


def _join(frames: Frames, step: Join, context: Mapping[str, Any]) -> pd.DataFrame:
    left, right = frames[step.frame], frames[step.with_]
    left_on, right_on, how = step.left_keys, step.right_keys, step.how
    picked = (
        list(step.columns)
        if step.columns is not None
        else [c for c in right.columns if c not in right_on or left_on != right_on]
    )
    names = join_column_names(set(left.columns), picked, step.prefix, step.with_)
    index: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in records_of(right):
        key = tuple(_key(row.get(c)) for c in right_on)
        if None not in key:
            index.setdefault(key, []).append(row)
    out: list[dict[str, Any]] = []
    matched: set[int] = set()
    empty = dict.fromkeys(names.values())
    for row in records_of(left):
        key = tuple(_key(row.get(c)) for c in left_on)
        hits = index.get(key, []) if None not in key else []
        for hit in hits:
            matched.add(id(hit))
            out.append({**row, **{names[c]: hit.get(c) for c in picked}})
        if not hits and how in ("left", "outer"):
            out.append({**row, **empty})
    if how in ("right", "outer"):
        for rows in index.values():
            for hit in rows:
                if id(hit) not in matched:
                    base = dict.fromkeys(left.columns)
                    base.update({lc: hit.get(rc) for lc, rc in zip(left_on, right_on, strict=True)})
                    out.append({**base, **{names[c]: hit.get(c) for c in picked}})
    return from_records(out, list(dict.fromkeys([*left.columns, *names.values()])))


def _key(value: Any) -> Any:
    """Join keys compare by value: 12, Decimal("12") and "12" meet."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | Decimal | float):
        return to_decimal(value)
    if isinstance(value, str):
        number = to_decimal(value) if value.strip().lstrip("-").replace(".", "", 1).isdigit() else None
        return number if number is not None else value
    return value


def _explode(frames: Frames, step: Explode, context: Mapping[str, Any]) -> pd.DataFrame:
    """One row per item of a list column (or of several, labelled); dict items become columns."""
    lists = step.lists
    label = step.label or ("Source" if len(lists) > 1 else None)
    prefix = step.prefix or ""
    out: list[dict[str, Any]] = []
    for row in records_of(frames[step.frame]):
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
    columns = [c for c in frames[step.frame].columns if c not in lists]
    if label:
        columns.append(label)
    for field in step.fields or []:
        columns.append(prefix + field)
    if len(lists) == 1:
        columns.append(next(iter(lists)))
    extra = [k for r in out for k in r if k not in columns]
    return from_records(out, list(dict.fromkeys(columns + extra)))


def _derive(frames: Frames, step: Derive, context: Mapping[str, Any]) -> pd.DataFrame:
    rows = records_of(frames[step.frame])
    compiled: dict[str, Expr] = step.columns
    for row in rows:
        for name, expr in compiled.items():
            row[name] = expr.evaluate(row_env(row, context))
    return from_records(rows, list(dict.fromkeys([*frames[step.frame].columns, *compiled])))


def _filter(frames: Frames, step: Filter, context: Mapping[str, Any]) -> pd.DataFrame:
    frame = frames[step.frame]
    keep = [truthy(v) for v in evaluate(step.where, frame, context)]
    return frame[pd.Series(keep, index=frame.index, dtype=bool)].reset_index(drop=True)


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
    for name in reversed(by):
        column = name.lstrip("-")
        try:
            rows = sorted(rows, key=_natural_key(column), reverse=name.startswith("-"))
        except TypeError:
            rows = sorted(rows, key=_text_key(column), reverse=name.startswith("-"))
    return rows


def _natural_key(column: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda row: sort_key(row.get(column))


def _text_key(column: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    return lambda row: (row.get(column) is None, _text(row.get(column)) or "")


def _sort(frames: Frames, step: Sort, context: Mapping[str, Any]) -> pd.DataFrame:
    frame = frames[step.frame]
    return from_records(sort_rows(records_of(frame), step.by), list(frame.columns))


def group_rows(rows: list[dict[str, Any]], by: Sequence[str]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(_key(row.get(c)) for c in by), []).append(row)
    return groups


def _aggregate(name: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if name == "count":
        return len(present)
    if name == "count_distinct":
        return len({_key(v) for v in present})
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


def _group(frames: Frames, step: Group, context: Mapping[str, Any]) -> pd.DataFrame:
    by = step.by
    out = []
    for rows in group_rows(records_of(frames[step.frame]), by).values():
        new = {c: rows[0].get(c) for c in by}
        for name, expr in step.aggregate.items():
            func, args = expr.top_call  # type: ignore[misc]  # an Aggregate always has one
            values = [1] * len(rows) if not args else [args[0].evaluate(row_env(r, context)) for r in rows]
            new[name] = _aggregate(func, values)
        out.append(new)
    return from_records(out, [*by, *step.aggregate])


def _select(frames: Frames, step: Select, context: Mapping[str, Any]) -> pd.DataFrame:
    frame = frames[step.frame]
    names = step.columns
    for name in names:
        if name not in frame.columns:
            frame[name] = None
    return frame[names].copy()


def _rename(frames: Frames, step: Rename, context: Mapping[str, Any]) -> pd.DataFrame:
    return frames[step.frame].rename(columns=dict(step.columns))


def _dedupe(frames: Frames, step: Dedupe, context: Mapping[str, Any]) -> pd.DataFrame:
    frame = frames[step.frame]
    groups = group_rows(records_of(frame), step.by)
    return from_records([rows[0] for rows in groups.values()], list(frame.columns))


def _union(frames: Frames, step: UnionStep, context: Mapping[str, Any]) -> pd.DataFrame:
    parts = [frames[name] for name in step.frames]
    columns = list(dict.fromkeys(c for p in parts for c in p.columns))
    return from_records([r for p in parts for r in records_of(p)], columns)


def _running(frames: Frames, step: Running, context: Mapping[str, Any]) -> pd.DataFrame:
    frame = frames[step.frame]
    by = step.by or []
    totals: dict[tuple[Any, ...], Decimal] = {}
    rows = records_of(frame)
    for row in rows:
        key = tuple(_key(row.get(c)) for c in by)
        amount = to_decimal(step.of.evaluate(row_env(row, context))) or Decimal(0)
        totals[key] = totals.get(key, Decimal(0)) + amount
        row[step.column] = totals[key]
    return from_records(rows, list(dict.fromkeys([*frame.columns, step.column])))


def _head(frames: Frames, step: Head, context: Mapping[str, Any]) -> pd.DataFrame:
    return frames[step.frame].head(step.n).reset_index(drop=True)


STEPS: dict[type[Step], Callable[[Frames, Any, Mapping[str, Any]], pd.DataFrame]] = {
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
