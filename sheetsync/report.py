"""run_report(): a definition, its parameters and the API connections -> workbooks and a run summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from sheetsync import model
from sheetsync.completeness import empty_tab_warnings, missing_warnings, narrowing_default_warnings
from sheetsync.connect import Connections
from sheetsync.definition import Definition, DemoValue
from sheetsync.expr import Template, truthy
from sheetsync.fetch import Fetcher, client_caller, resolve_values
from sheetsync.layout import (
    LayoutContext,
    about,
    build_tabs,
    empty_split_keys,
    empty_split_warnings,
    file_stem,
    split_groups,
    unique_tab_names,
)
from sheetsync.transform import Frames, build_frames, match_key, records_of


@dataclass
class ReportResult:
    workbooks: list[model.Workbook]
    summary: dict[str, Any] = field(default_factory=dict)


def documented_fields(definition: Definition, endpoints: Mapping[str, Any] | None = None) -> dict[str, tuple[str, ...]]:
    if endpoints is None:
        from sheetsync.apis.registry import ENDPOINTS

        endpoints = ENDPOINTS
    out = {}
    for name, source in definition.sources.items():
        endpoint = endpoints.get(source.endpoint) if source.api == "kss" else None
        out[name] = tuple(getattr(endpoint, "fields", ()) or ())
    return out


def run_report(
    definition: Definition,
    params: Mapping[str, Any],
    connections: Connections,
    *,
    fetcher: Fetcher | None = None,
    progress: bool | None = None,
) -> ReportResult:
    """Fetch, transform and lay out one report. `params` are typed (see definition.resolve_params)."""
    started = time.monotonic()
    before = _stats(connections, definition)
    environment = environment_of(definition, connections)
    fetcher = fetcher or Fetcher(client_caller(connections), progress=progress)
    fetched = fetcher.run(definition, params)
    workbooks, warnings = render(
        definition,
        params,
        fetched.records,
        documented_fields(definition),
        environment=environment,
        fetched_at=fetched.fetched_at,
        company=company_of(connections),
        negatives=connections.settings.negatives,
    )
    summary = summarize(
        definition,
        params,
        workbooks,
        warnings,
        _diff(before, _stats(connections, definition)),
        time.monotonic() - started,
        environment,
    )
    return ReportResult(workbooks, summary)


def environment_of(definition: Definition, connections: Connections) -> str:
    """Where a report's data comes from, for its Environment line: "sandbox", the KSS environment (or its
    overriding base URL) for KSS sources, the Kotis base URL for Kotis sources, both when it reads both."""
    if connections.environment == "sandbox":
        return "sandbox"
    apis = {source.api for source in definition.sources.values()}
    kotis = connections.settings.kotis_base_url or ""
    if apis == {"kotis"}:
        return kotis
    if "kotis" in apis:
        return f"KSS {connections.environment}; Kotis {kotis}"
    return connections.environment


def render(
    definition: Definition,
    params: Mapping[str, Any],
    records: Mapping[str, list[dict[str, Any]]],
    documented: Mapping[str, tuple[str, ...]],
    *,
    environment: str = "",
    fetched_at: datetime | None = None,
    company: model.Company | None = None,
    negatives: str | None = None,
) -> tuple[list[model.Workbook], list[model.RunWarning | str]]:
    """The pure part of a run: records -> workbooks (no network), plus warnings (data ones first)."""
    data_warnings: list[str] = []
    warnings: list[model.RunWarning | str] = []
    now = datetime.now().astimezone()
    shown = model.Negatives(negatives) if negatives else None
    ctx = LayoutContext(definition, params, environment, fetched_at or now, now, warnings, company, shown)
    frames = build_frames(definition, records, documented, data_warnings, context=ctx.expr_context)
    workbooks = _workbooks(definition, frames, ctx)
    missing = [*missing_warnings(definition, params, records), *narrowing_default_warnings(definition)]
    empty = [*empty_tab_warnings(workbooks), *empty_split_warnings(definition, workbooks)]
    return workbooks, [*missing, *data_warnings, *warnings, *empty]


def burst_enabled(definition: Definition, context: Mapping[str, Any]) -> bool:
    """Whether a run writes one workbook per value of `burst.by`: the definition's `burst.enabled`
    (a bool, or a template over the expression context: {"params": {...}} at least)."""
    burst = definition.burst
    if burst is None:
        return False
    enabled = burst.enabled
    return truthy(enabled.render(context) if isinstance(enabled, Template) else enabled)


def _workbooks(definition: Definition, frames: Frames, ctx: LayoutContext) -> list[model.Workbook]:
    burst = definition.burst
    if burst is None or not burst_enabled(definition, ctx.expr_context):
        return [_workbook(definition.name, definition, frames, ctx)]
    first = frames[definition.tabs[0].frame]
    split = {name: _by_value(frame, burst.by) for name, frame in frames.items() if burst.by in frame.columns}
    workbooks = []
    for value, rows in split_groups(first, burst.by):
        key = match_key(value)
        subset = {name: split[name](key) if name in split else frame for name, frame in frames.items()}
        env = {**ctx.expr_context, "value": value, **(rows[0] if rows else {})}
        name = file_stem(str(burst.name.render(env)))
        workbooks.append(_workbook(name, definition, subset, ctx))
    return workbooks


def _by_value(frame: pd.DataFrame, column: str) -> Callable[[Any], pd.DataFrame]:
    """A lookup from a burst value's match key to the rows of `frame` holding it (grouped once, in order)."""
    positions: dict[Any, list[int]] = {}
    for position, value in enumerate(frame[column]):
        positions.setdefault(match_key(value), []).append(position)

    def rows_of(key: Any) -> pd.DataFrame:
        return frame.iloc[positions.get(key, [])].reset_index(drop=True)

    return rows_of


def _workbook(name: str, definition: Definition, frames: Frames, ctx: LayoutContext) -> model.Workbook:
    tabs = [tab for spec in definition.tabs for tab in build_tabs(spec, frames[spec.frame], ctx)]
    unique_tab_names(tabs)
    return model.Workbook(name, tabs, about=about(ctx), kept_keys=empty_split_keys(definition, tabs))


def company_of(connections: Connections) -> model.Company | None:
    """The configured `[company]`; in the sandbox without one, a placeholder, so statements look real."""
    company = connections.settings.company()
    if company is None and connections.environment == "sandbox":
        from sheetsync.config import PLACEHOLDER_COMPANY

        return PLACEHOLDER_COMPANY
    return company


def _stats(connections: Connections, definition: Definition) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    apis = {s.api for s in definition.sources.values()}
    for api in apis:
        stats = connections.request_stats(api)
        if stats is not None:
            for endpoint, counts in stats.as_dict().items():
                out[endpoint] = dict(counts)
    return out


def _diff(before: Mapping[str, dict[str, int]], after: Mapping[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out = {}
    for endpoint, counts in after.items():
        delta = {k: v - before.get(endpoint, {}).get(k, 0) for k, v in counts.items()}
        if any(delta.values()):
            out[endpoint] = delta
    return out


def summarize(
    definition: Definition,
    params: Mapping[str, Any],
    workbooks: list[model.Workbook],
    warnings: Sequence[model.RunWarning | str],
    requests: Mapping[str, dict[str, int]],
    seconds: float,
    environment: str,
) -> dict[str, Any]:
    return {
        "report": definition.name,
        "environment": environment,
        "params": {k: _jsonable(v) for k, v in params.items()},
        "workbooks": [
            {"name": wb.name, "tabs": [{"name": t.name, "key": t.key, "rows": len(t.rows)} for t in wb.tabs]}
            for wb in workbooks
        ],
        "tabs": sum(len(wb.tabs) for wb in workbooks),
        "rows": sum(len(t.rows) for wb in workbooks for t in wb.tabs),
        "requests": {e: c.get("requests", 0) for e, c in sorted(requests.items())},
        "not_modified": sum(c.get("not_modified", 0) for c in requests.values()),
        "retries": sum(c.get("retries", 0) for c in requests.values()),
        "seconds": round(seconds, 2),
        "warnings": [model.RunWarning.of(w).as_dict() for w in warnings],
        "outputs": [],
    }


# Warnings that mean the user asked for something that is not there: the run exits PARTIAL (1).
PARTIAL_CODES = frozenset({"id-not-returned"})


def add_warnings(summary: dict[str, Any], warnings: Sequence[model.RunWarning]) -> None:
    """Append warnings found after the run (by the sinks) to its summary, once each."""
    for warning in warnings:
        if warning.as_dict() not in summary["warnings"]:
            summary["warnings"].append(warning.as_dict())


def exit_code(summary: dict[str, Any]) -> int:
    """PARTIAL (1) when a warning says requested data is missing, else OK (0)."""
    from sheetsync.errors import ExitCode

    partial = any(w["code"] in PARTIAL_CODES for w in summary["warnings"])
    return int(ExitCode.PARTIAL if partial else ExitCode.OK)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def demo_params(definition: Definition, connections: Connections) -> dict[str, Any]:
    """The `demo:` values of a definition, resolving `{endpoint, field, limit}` ones by a query."""
    out: dict[str, Any] = {}
    for name, value in definition.demo.items():
        if isinstance(value, DemoValue):
            records = connections.kss.get_all(value.endpoint, value.params or None)
            out[name] = resolve_values(records, [value.field])[: value.limit]
        else:
            out[name] = value
    return out


def frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as dicts (for callers that want plain Python)."""
    return records_of(frame)
