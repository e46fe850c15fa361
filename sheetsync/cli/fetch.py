"""sheetsync fetch: print the rows of any KSS GET endpoint (never a POST)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from sheetsync.apis import registry
from sheetsync.cli.common import api_options, params_option, settings_from_context
from sheetsync.connect import open_connections
from sheetsync.errors import ParameterError
from sheetsync.sinks.text import csv_cell

FORMATS = ("table", "csv", "json")
MAX_CELL = 40


@click.command("fetch")
@click.argument("endpoint", required=False)
@params_option(
    "-p",
    "--param",
    "params",
    help="A documented parameter, e.g. -p States=CA,NJ -p StartDate=2025-01-01 (repeatable; a repeated name "
    "joins its values: -p States=CA -p States=NJ sends States=CA,NJ).",
)
@params_option(
    "--raw",
    "raw_params",
    help="A parameter sent as given, unchecked (for one the registry does not know).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--csv-unescaped",
    is_flag=True,
    help="CSV only: keep text as sent, even text a spreadsheet would run as a formula (=, +, -, @).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many rows.")
@click.option("--list", "list_endpoints", is_flag=True, help="List the endpoints and their parameters.")
@click.option(
    "--describe",
    "describe",
    is_flag=True,
    help="Describe ENDPOINT: its parameters (types, defaults, meanings) and fields (types).",
)
@api_options
def fetch(
    endpoint: str | None,
    params: dict[str, str],
    raw_params: dict[str, str],
    fmt: str,
    csv_unescaped: bool,
    limit: int | None,
    list_endpoints: bool,
    describe: bool,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> None:
    """Print the rows of a KSS or Kotis GET endpoint, all pages unless --limit.

    ENDPOINT is a documented path without the leading slash; Kotis paths start with kotis/
    (kotis/skus/quantity, kotis/orders/status, kotis/orders/by_source). For a single record put its ID in the
    path (customers/12); -p customerID=12 with customers/{customerID} works too. Values are printed
    as the API sent them (amounts keep their digits; calendar dates as YYYY-MM-DD); the request counts
    go to stderr. CSV text that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
    gets a leading ' unless --csv-unescaped; numbers, negative ones too, are never changed.

    \b
    Example:
      sheetsync fetch products --sandbox --limit 5
      sheetsync fetch invoices --describe
      sheetsync fetch invoices -p CustomerIDs=1,2 -p StartDate=2026-01-01 --format csv
      sheetsync fetch customers/12 --sandbox --format json
      sheetsync fetch kotis/orders/by_source --sandbox -p source=all -p start_date=2026-01-01 -p end_date=2026-02-28
    """
    if describe and endpoint:
        from sheetsync.apis.reference import describe_endpoint

        click.echo(describe_endpoint(endpoint))
        return
    if list_endpoints or not endpoint:
        if not list_endpoints:
            raise click.UsageError("give an ENDPOINT (sheetsync fetch --list shows them)")
        click.echo(describe_endpoints())
        return
    if endpoint.startswith("kotis/"):
        fetch_kotis(endpoint, params, fmt, limit, sandbox=sandbox, seed=seed, escape=not csv_unescaped)
        return
    ep, _ = registry.resolve(endpoint)
    if ep.method != "GET":
        raise ParameterError(f"{endpoint} is not a GET endpoint; fetch never sends a POST")
    query, raw = params, raw_params
    ep.encode_params({k: v for k, v in query.items() if k not in ep.path_params}, raw)  # refuse before starting
    if sandbox:
        ep.check_key_type(sandbox_key)
    settings = settings_from_context()
    with open_connections(settings, sandbox=sandbox, sandbox_key=sandbox_key, seed=seed) as connections:
        kss = connections.kss
        page_size = min(500, limit) if limit else 500
        records = kss.iter_records(endpoint, query, raw_params=raw, page_size=page_size)
        rows = list(_limited(records, limit))
        write_rows(rows, fmt, columns(ep.fields, rows), sys.stdout, escape=not csv_unescaped)
        click.echo(f"{len(rows)} rows, {kss.stats.total_requests} requests", err=True)
    _warn_missing("kss", ep.key, query, rows, limit)


def fetch_kotis(
    endpoint: str, query: dict[str, str], fmt: str, limit: int | None, *, sandbox: bool, seed: int, escape: bool = True
) -> None:
    """A Kotis GET (a registry name after kotis/), its JSON:API documents flattened into rows."""
    ep = registry.kotis_endpoint(endpoint)
    if ep.method != "GET":
        raise ParameterError(f"{endpoint} is not a GET endpoint; fetch never sends a POST")
    checked = registry.kotis_params(ep, query)  # refuse before starting
    with open_connections(settings_from_context(), sandbox=sandbox, seed=seed) as connections:
        kotis = connections.kotis
        rows = list(_limited(iter(kotis.get_all(ep.name, checked)), limit))
        write_rows(rows, fmt, columns(ep.fields, rows), sys.stdout, escape=escape)
        click.echo(f"{len(rows)} rows, {kotis.stats.total_requests} requests", err=True)


def _warn_missing(api: str, endpoint: str, query: dict[str, Any], rows: list[dict], limit: int | None) -> None:
    """On stderr: requested IDs the answer lacks (exit PARTIAL), an empty answer, a narrowing default (exit 0)."""
    from sheetsync.completeness import fetch_warnings
    from sheetsync.errors import ExitCode

    warnings = fetch_warnings(api, endpoint, query, rows)
    if limit and len(rows) >= limit:  # a cut answer says nothing about what is missing
        warnings = [w for w in warnings if w.code == "narrowing-default"]
    for warning in warnings:
        click.echo(f"warning: {warning.message}", err=True)
    if any(w.code == "id-not-returned" for w in warnings):
        click.get_current_context().exit(int(ExitCode.PARTIAL))


def _limited(records: Iterator[dict], limit: int | None) -> Iterator[dict]:
    for count, record in enumerate(records, start=1):
        yield record
        if limit and count >= limit:
            return


def columns(documented: Iterable[str], rows: list[dict]) -> list[str]:
    """Documented fields present in the rows first (in document order), then any extra fields."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    ordered = [f for f in documented if f in seen]
    return ordered + [f for f in seen if f not in ordered]


def text(value: Any) -> str:
    """A value as printed: Decimal as its own string, dates ISO 8601, None empty, lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def write_rows(rows: list[dict], fmt: str, cols: list[str], out: Any, *, escape: bool = True) -> None:
    """Rows as a table, JSON or CSV. CSV text passes the OWASP rule (sinks/text.csv_cell) unless not `escape`;
    numbers are printed as numbers and never escaped."""
    if fmt == "json":
        json.dump(rows, out, default=_json_default, indent=2)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([csv_cell(c) if escape else c for c in cols])
        writer.writerows([_csv_value(row.get(c), escape) for c in cols] for row in rows)
    else:
        out.write(_table(rows, cols))


def _csv_value(value: Any, escape: bool) -> str:
    printed = text(value)
    return csv_cell(printed) if escape and isinstance(value, str) else printed


def _table(rows: list[dict], cols: list[str]) -> str:
    cells = [[_clip(text(row.get(c))) for c in cols] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines) + "\n"


def _clip(value: str) -> str:
    value = value.replace("\n", " ")
    return value if len(value) <= MAX_CELL else value[: MAX_CELL - 1] + "…"


def describe_endpoints() -> str:
    lines = []
    for ep in (*registry.ENDPOINTS.values(), *registry.NEWER_REVISION.values()):
        if ep.method != "GET":
            continue
        params = ", ".join(f"{p.name}{'*' if p.required else ''}:{p.type}" for p in ep.params.values())
        notes = [] if len(ep.key_types) == 3 else [f"keys: {'/'.join(ep.key_types)}"]
        if ep.revision != "2025":
            notes.append("newer revision")
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        lines.append(f"{ep.name}  {params}{suffix}".rstrip())
    for ep in registry.KOTIS.values():
        if ep.method == "GET":
            params = ", ".join(f"{p.name}{'*' if p.required else ''}:{p.type}" for p in ep.params.values())
            lines.append(f"kotis/{ep.name}  {params}".rstrip())
    return "\n".join(lines)


COMMANDS: list[click.Command] = [fetch]
