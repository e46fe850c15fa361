"""A report run end to end, as `sheetsync run` and `sheetsync demo` do it: parameters as typed, the API
connections, bursting and the sinks (xlsx files, directories, Google Sheets). The commands only parse
their options, call one function here and print the summary it returns.

``run(RunRequest(report, params={"customer_ids": "1,2"}, outputs=["prices.xlsx"]), settings) -> RunOutcome``
    Checks the definition, the parameters, the outputs and the Google credentials before any request
    (DefinitionError, ParameterError, SinkError, ConfigError), fetches and lays out the report
    (report.run_report), writes every output. ``RunOutcome.summary`` is report.summarize's dict plus
    ``outputs`` (what was written), ``google_sheets`` (API calls per spreadsheet id), ``xlsx`` (what each
    file refresh did) and ``unchanged``; ``RunOutcome.exit_code`` is PARTIAL (1) when a warning says
    requested data is missing.
``demo(out_dir, settings, seed=0, on_summary=None) -> list[RunOutcome]``
    Every built-in report with the demo parameters of its definition, against an in-process sandbox,
    into `out_dir` (a bursting report into `out_dir/REPORT/`); one fetcher for all of them, so a
    query two reports share is sent once. `on_summary` sees each outcome as soon as it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.config import Settings
from sheetsync.connect import open_connections
from sheetsync.definition import Definition, builtin_paths, find_definition, load_definition, resolve_params
from sheetsync.fetch import Fetcher, client_caller
from sheetsync.model import RunWarning
from sheetsync.report import ReportResult, add_warnings, burst_enabled, demo_params, exit_code, run_report
from sheetsync.sinks.targets import (
    DirectoryTarget,
    Target,
    XlsxTarget,
    check_targets,
    needs_google,
    parse_target,
    write_outputs,
)


@dataclass(frozen=True)
class RunRequest:
    """What `sheetsync run` was asked for: the report (a built-in name or a .yaml path), its parameters
    as text (`-p`; lists comma-separated), the outputs (`-o`; none: ./REPORT.xlsx, or ./ when bursting)
    and where the data comes from."""

    report: str
    params: Mapping[str, str] = field(default_factory=dict)
    outputs: Sequence[str] = ()
    google_credentials: str | None = None  # a path; None: the configured one
    force: bool = False  # write an xlsx output even when its data is unchanged
    sandbox: bool = False
    sandbox_key: str = "employee"
    seed: int = 0


@dataclass
class RunOutcome:
    """The workbooks of one report run and its summary (outputs written included)."""

    workbooks: list[Any]
    summary: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return exit_code(self.summary)


def run(request: RunRequest, settings: Settings) -> RunOutcome:
    """Check, fetch, lay out and write one report (see the module doc)."""
    definition = find_definition(request.report)
    values = resolve_params(definition, request.params)
    targets = [parse_target(o) for o in request.outputs] or [default_target(definition)]
    check_targets(targets, many_workbooks=burst_enabled(definition, values))
    credentials = _credentials(request.google_credentials, settings) if needs_google(targets) else None
    with open_connections(
        settings, sandbox=request.sandbox, sandbox_key=request.sandbox_key, seed=request.seed
    ) as connections:
        result = run_report(definition, values, connections)
    return write(result, targets, credentials=credentials, force=request.force)


def demo(
    out_dir: Path, settings: Settings, *, seed: int = 0, on_summary: Callable[[dict[str, Any]], None] | None = None
) -> list[RunOutcome]:
    """Every built-in report into `out_dir`, from an in-process sandbox (see the module doc)."""
    target = DirectoryTarget(out_dir)
    check_targets([target], many_workbooks=True)
    definitions = [load_definition(path) for path in builtin_paths().values()]
    outcomes = []
    with open_connections(settings, sandbox=True, seed=seed) as connections:
        fetcher = Fetcher(client_caller(connections))  # one fetcher: a query shared by reports is sent once
        for definition in definitions:
            values = resolve_params(definition, demo_params(definition, connections))
            result = run_report(definition, values, connections, fetcher=fetcher)
            bursting = len(result.workbooks) > 1
            outcome = write(result, [DirectoryTarget(out_dir / definition.name) if bursting else target])
            outcomes.append(outcome)
            if on_summary is not None:
                on_summary(outcome.summary)
    return outcomes


def write(
    result: ReportResult, targets: Sequence[Target], *, credentials: Any = None, force: bool = False
) -> RunOutcome:
    """Write a run's workbooks to every target; what was written and any sink warnings go into its summary."""
    summary = result.summary
    summary["google_sheets"] = {}
    files: list[Any] = []
    sink_warnings: list[RunWarning] = []
    summary["outputs"] = write_outputs(
        targets,
        result.workbooks,
        credentials=credentials,
        sheets_stats=summary["google_sheets"],
        warnings=sink_warnings,
        force=force,
        xlsx_outcomes=files,
    )
    add_warnings(summary, sink_warnings)
    _add_file_outcomes(summary, files)
    return RunOutcome(result.workbooks, summary)


def default_target(definition: Definition) -> XlsxTarget | DirectoryTarget:
    """./REPORT.xlsx, or the current directory for a report that may burst into several workbooks."""
    if definition.burst is not None:
        return DirectoryTarget(Path("."))
    return XlsxTarget(Path(f"{definition.name}.xlsx"))


def _add_file_outcomes(summary: dict[str, Any], outcomes: list[Any]) -> None:
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


def _credentials(path: str | None, settings: Settings) -> Any:
    from sheetsync.sinks.gsheets import load_credentials

    return load_credentials(path or settings.google_credentials)
