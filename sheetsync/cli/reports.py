"""sheetsync reports list|show|check, sheetsync run REPORT, sheetsync demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from sheetsync.cli.common import api_options, params_option, settings_from_context
from sheetsync.definition import (
    Definition,
    DemoValue,
    builtin_paths,
    find_definition,
    json_schema_text,
    load_definition,
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
    from sheetsync.completeness import narrowing_default_warnings

    definition = find_definition(file)
    for warning in narrowing_default_warnings(definition):
        click.echo(f"warning: {warning.message}", err=True)
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
    from sheetsync.run import RunRequest
    from sheetsync.run import run as run_and_write

    request = RunRequest(report, params, outputs, google_credentials, force, sandbox, sandbox_key, seed)
    outcome = run_and_write(request, settings_from_context())
    _print_summary(outcome.summary, as_json)
    if outcome.exit_code:
        click.get_current_context().exit(outcome.exit_code)


def _print_summary(summary: dict[str, Any], as_json: bool = False) -> None:
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
    from sheetsync.run import demo as write_demo
    from sheetsync.sinks.targets import parse_target

    parse_target(out_dir)  # refuses an empty --out (an unset shell variable) in one line
    outcomes = write_demo(
        Path(out_dir), settings_from_context(), seed=seed, on_summary=None if as_json else _print_summary
    )
    if as_json:
        click.echo(json.dumps([o.summary for o in outcomes], indent=2, default=str))
    else:
        click.echo(f"demo workbooks are in {Path(out_dir).resolve()}")


COMMANDS: list[click.Command] = [reports_group, run, demo]
