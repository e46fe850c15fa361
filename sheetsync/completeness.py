"""Nothing silently empty: what a run asked for and did not get becomes a structured warning.

- ``id-not-returned`` (the run exits PARTIAL): an ID the user asked for (a source parameter such as
  ``CustomerIDs``, ``InvoiceIDs``, ``ProductIDs`` or Kotis ``order_numbers``, given literally or from a
  report parameter) that no record of the answer carries, with its likely causes: not found, outside the
  key's scope (Customer keys filter silently), or excluded by another filter or a narrowing default.
- ``no-records`` (exit 0): a query that matched nothing.
- ``no-rows`` (exit 0): a tab written without data rows.

Dependent parameters (IDs taken from an earlier source) are not requests of the user and are not checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sheetsync.apis import registry
from sheetsync.definition import Definition, FromSource, SourceSpec
from sheetsync.expr import Template
from sheetsync.model import RunWarning, Workbook

# Kotis parameters that name records, and the field of a row that answers them.
KOTIS_ID_PARAMS = {"order_numbers": "order_number"}
# Documented defaults that narrow what a query returns when the parameter is left out.
NARROWING_DEFAULTS: dict[tuple[str, str], str] = {
    ("invoices", "Statuses"): "only New (1) invoices are returned unless Statuses is given "
    "(1 New, 2 Locked for Routing, 3 Loaded, 4 Returned, 5 Balanced, 7 Verified)",
    ("customers", "AccountStatuses"): "only Active customers are returned unless AccountStatuses is given "
    "(Active, Inactive, OutOfBus)",
}


def source_params(source: SourceSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """The source's own parameters with report parameters filled in (dependent ones left out)."""
    out: dict[str, Any] = {}
    for name, value in source.params.items():
        if isinstance(value, FromSource):
            continue
        rendered = value.render({"params": params}) if isinstance(value, Template) else value
        if rendered is not None and rendered != [] and rendered != "":
            out[name] = rendered
    return out


def requested_ids(source: SourceSpec, given: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{record field: requested values} for the source's ID-list parameters: CustomerIDs -> CustomerID."""
    fields = _documented_fields(source)
    out: dict[str, list[Any]] = {}
    for name, value in given.items():
        field = KOTIS_ID_PARAMS.get(name) if source.api == "kotis" else _field_of(name, fields)
        if field is not None:
            out[field] = _as_list(value)
    return out


def _documented_fields(source: SourceSpec) -> tuple[str, ...]:
    if source.api != "kss":
        return ()
    try:
        return registry.endpoint(source.endpoint).fields
    except Exception:  # an unknown endpoint is the definition checker's to report
        return ()


def _field_of(param: str, fields: Sequence[str]) -> str | None:
    for suffix in ("IDs", "Nums"):
        if param.endswith(suffix) and param[:-1] in fields:
            return param[:-1]
    return None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value) if isinstance(value, list | tuple | set) else [value]


def missing_warnings(
    definition: Definition, params: Mapping[str, Any], records: Mapping[str, list[dict[str, Any]]]
) -> list[RunWarning]:
    """Warnings for requested IDs no record carries and for queries that matched nothing."""
    out: list[RunWarning] = []
    for name, source in definition.sources.items():
        if name not in records:
            continue
        given = source_params(source, params)
        rows = records[name]
        for field, wanted in requested_ids(source, given).items():
            out += _missing_ids(source, field, wanted, rows, given)
        if not rows and not source.depends_on:
            out.append(_no_records(source, given))
    return out


def _missing_ids(
    source: SourceSpec, field: str, wanted: list[Any], rows: list[dict[str, Any]], given: Mapping[str, Any]
) -> list[RunWarning]:
    present = {str(row.get(field)) for row in rows}
    missing = [value for value in dict.fromkeys(wanted) if str(value) not in present]
    return [
        RunWarning(
            "id-not-returned",
            f"{field} {value} was not returned by {source.api.upper()} {source.endpoint} (source '{source.name}'): "
            f"{likely_causes(source, given)}",
            f"{field}={value}",
        )
        for value in missing
    ]


def fetch_warnings(api: str, endpoint: str, given: Mapping[str, Any], rows: list[dict[str, Any]]) -> list[RunWarning]:
    """The warnings of `sheetsync fetch`: requested IDs the answer lacks, an answer of no rows, a narrowing default."""
    source = SourceSpec(name=endpoint, endpoint=endpoint, api=api)  # type: ignore[call-arg, arg-type]
    out = [
        w
        for field, wanted in requested_ids(source, given).items()
        for w in _missing_ids(source, field, wanted, rows, given)
    ]
    if not rows and not out:
        out.append(_no_records(source, given))
    for (name, param), meaning in NARROWING_DEFAULTS.items():
        if api == "kss" and endpoint == name and param not in given:
            out.append(RunWarning("narrowing-default", f"{endpoint}: {param} is unset: {meaning}", param))
    return out


def likely_causes(source: SourceSpec, given: Mapping[str, Any]) -> str:
    """The reasons an asked-for record may be absent, most likely first."""
    causes = ["it does not exist", "it is outside the API key's scope (a Customer key sees only its own accounts)"]
    filters = [f"{k}={_shown(v)}" for k, v in given.items() if not k.endswith(("IDs", "Nums")) and k in _params(source)]
    if filters:
        causes.append(f"another filter excludes it ({', '.join(filters)})")
    for (endpoint, param), meaning in NARROWING_DEFAULTS.items():
        if source.endpoint == endpoint and param not in given:
            causes.append(f"a default excludes it: {meaning}")
    return "; or ".join(causes)


def _params(source: SourceSpec) -> Sequence[str]:
    if source.api == "kotis":
        return list(source.params)
    try:
        return list(registry.endpoint(source.endpoint).params)
    except Exception:
        return []


def _shown(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


def _no_records(source: SourceSpec, given: Mapping[str, Any]) -> RunWarning:
    shown = ", ".join(f"{k}={_shown(v)}" for k, v in given.items()) or "no filters"
    return RunWarning(
        "no-records",
        f"source '{source.name}' ({source.endpoint}, {shown}) matched no records",
        source.name,
    )


def narrowing_default_warnings(definition: Definition) -> list[RunWarning]:
    """A source that leaves unset a parameter whose documented default narrows the result (invoice Statuses)."""
    out = []
    for source in definition.sources.values():
        for (endpoint, param), meaning in NARROWING_DEFAULTS.items():
            if source.api == "kss" and source.endpoint == endpoint and param not in source.params:
                where = f"{definition.file}:{source.line}: " if source.line else f"{definition.file}: "
                out.append(
                    RunWarning(
                        "narrowing-default",
                        f"{where}source '{source.name}' leaves {param} unset: {meaning}",
                        f"{source.name}.{param}",
                    )
                )
    return out


def empty_tab_warnings(workbooks: Sequence[Workbook]) -> list[RunWarning]:
    """One warning per tab written without a data row."""
    return [
        RunWarning("no-rows", f"{book.name}: tab {tab.name!r} has no data rows", tab.name)
        for book in workbooks
        for tab in book.tabs
        if not tab.rows
    ]
