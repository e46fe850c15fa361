"""sheetsync reports list|show|check, sheetsync run REPORT, sheetsync demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sheetsync.cli.common import api_options, params_option, settings_from_context
from sheetsync.connect import open_connections
from sheetsync.definition import (
    Definition,
    DemoValue,
    builtin_paths,
    find_definition,
    json_schema_text,
    load_definition,
    resolve_params,
)
from sheetsync.model import RunWarning
from sheetsync.sinks.targets import (
    DirectoryTarget,
    XlsxTarget,
    check_targets,
    needs_google,
    parse_target,
    write_outputs,
)


@click.group("reports")
def reports_group() -> None:
    """List, describe and check report definitions.

    \b
    Example:
      sheetsync reports list
      sheetsync reports show price-list
      sheetsync reports check reports/my-report.yaml
    """


@reports_group.command("list")
def list_reports() -> None:
    """List the built-in reports.

    \b
    Example:
      sheetsync reports list
    """
    for name, path in builtin_paths().items():
        definition = load_definition(path)
        click.echo(f"{name:<18} {definition.title}")


@reports_group.command("show")
@click.argument("report")
def show(report: str) -> None:
    """Show a report's parameters, sources and tabs. REPORT is a built-in name or a .yaml path.

    \b
    Example:
      sheetsync reports show price-list
    """
    click.echo(describe(find_definition(report)))


@reports_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Validate a definition file without sending any request; print one line per mistake.

    \b
    Example:
      sheetsync reports check reports/price-list.yaml
    """
    definition = find_definition(file)
    click.echo(
        f"ok: {file}: report {definition.name}, {len(definition.sources)} sources, "
        f"{len(definition.steps)} transforms, {len(definition.tabs)} tab spec(s)"
    )


@reports_group.command("schema")
def schema() -> None:
    """Print the JSON Schema of report definitions, for an editor's YAML language server.

    \b
    Example:
      sheetsync reports schema > sheetsync-report.schema.json
    """
    click.echo(json_schema_text())


def describe(definition: Definition) -> str:
    lines = [f"{definition.name}: {definition.title}"]
    if definition.description:
        lines.append(f"  {definition.description}")
    lines.append("parameters:")
    for p in definition.params.values():
        flags = "required" if p.required else (f"default {p.default}" if p.default is not None else "optional")
        lines.append(f"  {p.name:<16} {p.type:<9} {flags}{'  ' + p.help if p.help else ''}")
    if not definition.params:
        lines.append("  (none)")
    lines.append("sources:")
    for s in definition.sources.values():
        lines.append(f"  {s.name:<16} {s.api} {s.endpoint}")
    lines.append("tabs:")
    for t in definition.tabs:
        split = f" (one per {t.split})" if t.split else ""
        lines.append(f"  {t.id:<16} {t.title.text}{split}: {', '.join(c.header for c in t.columns)}")
    if definition.burst:
        lines.append(f"burst: one workbook per {definition.burst.by}")
    if definition.demo:
        shown = {
            k: (f"first {v.limit} {v.field} of {v.endpoint}" if isinstance(v, DemoValue) else v)
            for k, v in definition.demo.items()
        }
        lines.append(f"demo: {shown}")
    return "\n".join(lines)


@click.command("run")
@click.argument("report")
@params_option(
    "-p",
    "--param",
    "params",
    help="A report parameter, lists comma-separated (repeatable; a repeated name joins its values).",
)
@click.option(
    "-o",
    "--out",
    "outputs",
    multiple=True,
    metavar="OUT",
    help="An .xlsx path, a directory, gsheet://ID or a Google Sheets URL (repeatable).",
)
@click.option("--google-credentials", type=click.Path(dir_okay=False), help="Credentials for gsheet:// outputs.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@click.option("--force", is_flag=True, help="Write even when the data is unchanged since the last refresh.")
@api_options
def run(
    report: str,
    params: dict[str, str],
    outputs: tuple[str, ...],
    google_credentials: str | None,
    as_json: bool,
    force: bool,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> None:
    """Run a report and write its workbook(s). REPORT is a built-in name or a .yaml path.

    Without -o the workbook goes to ./REPORT.xlsx (a bursting report writes one file per workbook
    into the current directory). Parameters and outputs are checked before any request.

    \b
    Example:
      sheetsync run price-list --sandbox -p customer_ids=1,2
      sheetsync run price-list -p customer_ids=12 -o prices.xlsx -o gsheet://1AbC...xyz
    """
    definition = find_definition(report)
    values = resolve_params(definition, params)
    targets = [parse_target(o) for o in outputs] or [_default_target(definition)]
    check_targets(targets, many_workbooks=_burst_enabled(definition, values))
    credentials = _credentials(google_credentials) if needs_google(targets) else None
    settings = settings_from_context()
    from sheetsync.report import add_warnings, exit_code, run_report

    with open_connections(settings, sandbox=sandbox, sandbox_key=sandbox_key, seed=seed) as connections:
        result = run_report(definition, values, connections)
    result.summary["google_sheets"] = {}
    outcomes: list[Any] = []
    sink_warnings: list[RunWarning] = []
    result.summary["outputs"] = write_outputs(
        targets,
        result.workbooks,
        credentials=credentials,
        sheets_stats=result.summary["google_sheets"],
        warnings=sink_warnings,
        force=force,
        xlsx_outcomes=outcomes,
    )
    add_warnings(result.summary, sink_warnings)
    _add_outcomes(result.summary, outcomes)
    _print_summary(result.summary, as_json)
    code = exit_code(result.summary)
    if code:
        click.get_current_context().exit(code)


def _add_outcomes(summary: dict[str, Any], outcomes: list[Any]) -> None:
    """What each xlsx refresh did (created / refreshed / unchanged, cells kept, notes moved)."""
    summary["xlsx"] = [
        {
            "path": str(o.path),
            "status": o.status,
            "kept_cells": o.kept_cells,
            "notes_without_a_row": o.orphans,
            "notes_tab": o.notes_tab,
            "message": o.describe(),
        }
        for o in outcomes
    ]
    summary["unchanged"] = [str(o.path) for o in outcomes if o.status == "unchanged"]


def _burst_enabled(definition: Definition, params: dict[str, Any]) -> bool:
    from sheetsync.expr import Template, truthy

    enabled = definition.burst.enabled if definition.burst else False
    return truthy(enabled.render({"params": params}) if isinstance(enabled, Template) else enabled)


def _default_target(definition: Definition) -> XlsxTarget | DirectoryTarget:
    if definition.burst is not None:
        return DirectoryTarget(Path("."))
    return XlsxTarget(Path(f"{definition.name}.xlsx"))


def _credentials(path: str | None) -> Any:
    from sheetsync.sinks.gsheets import load_credentials

    return load_credentials(path or settings_from_context().google_credentials)


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    requests = ", ".join(f"{e} {n}" for e, n in summary["requests"].items()) or "none"
    lines = [
        f"{summary['report']}: {summary['tabs']} tab(s), {summary['rows']} row(s) in {len(summary['workbooks'])} "
        f"workbook(s) from {summary['environment'] or 'the API'}",
        f"requests: {sum(summary['requests'].values())} ({requests}); 304 not modified: {summary['not_modified']}; "
        f"{summary['seconds']:.1f} s",
        *[f"wrote {o}" for o in summary["outputs"]],
        *[
            x["message"]
            for x in summary.get("xlsx", [])
            if x["status"] == "unchanged" or x["kept_cells"] or x["notes_without_a_row"]
        ],
        *[f"warning: {w['message']}" for w in summary["warnings"]],
    ]
    click.echo("\n".join(lines), err=True)


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="sheetsync-demo",
    show_default=True,
    help="Directory for the demo workbooks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summaries as JSON on stdout.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sandbox data seed.")
def demo(out_dir: str, as_json: bool, seed: int) -> None:
    """Start the sandbox in-process and write every built-in report into a directory.

    No keys and no network: the sandbox serves both APIs on loopback. Each report runs with the
    demo parameters of its definition (`sheetsync reports show NAME` lists them).

    \b
    Example:
      sheetsync demo --out ./sheetsync-demo
    """
    from sheetsync.fetch import Fetcher, client_caller
    from sheetsync.report import add_warnings, demo_params, run_report

    target = parse_target(str(Path(out_dir)) + "/")
    check_targets([target], many_workbooks=True)
    definitions = [load_definition(path) for path in builtin_paths().values()]
    summaries = []
    with open_connections(settings_from_context(), sandbox=True, seed=seed) as connections:
        fetcher = Fetcher(client_caller(connections))  # one fetcher: a query shared by reports is sent once
        for definition in definitions:
            given = demo_params(definition, connections)
            values = resolve_params(definition, given)
            result = run_report(definition, values, connections, fetcher=fetcher)
            burst_dir = isinstance(target, DirectoryTarget) and len(result.workbooks) > 1
            where = DirectoryTarget(target.path / definition.name) if burst_dir else target  # type: ignore[union-attr]
            sink_warnings: list[RunWarning] = []
            result.summary["outputs"] = write_outputs([where], result.workbooks, warnings=sink_warnings)
            add_warnings(result.summary, sink_warnings)
            summaries.append(result.summary)
            if not as_json:
                _print_summary(result.summary, False)
    if as_json:
        click.echo(json.dumps(summaries, indent=2, default=str))
    else:
        click.echo(f"demo workbooks are in {Path(out_dir).resolve()}")


COMMANDS: list[click.Command] = [reports_group, run, demo]
