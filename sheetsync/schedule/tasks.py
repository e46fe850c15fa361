"""What a job runs: one command of sheetsync, by kind (`report` here; `statements` in statements_task.py).

A Task checks itself before any request (`check`), names the outputs it writes (for the per-output
locks) and runs (`run`) into a TaskResult with its costs. The contract every kind keeps: nothing is
written until everything was fetched and rendered, so a failed run leaves every output as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sheetsync.config import Settings, load_settings
from sheetsync.connect import Connections
from sheetsync.errors import SheetsyncError, SinkError

Connector = Callable[[Settings], AbstractContextManager[Any]]
MISSING_HINT = "add `{name}: VALUE` under the job's params in the schedule file"


@dataclass
class TaskResult:
    """What a run did and cost (see RunRecord for the fields' meaning)."""

    outputs: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    not_modified: int = 0
    sheets_calls: int = 0
    bytes_written: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)  # RunWarning.as_dict(): code, message, subject
    partial: bool = False  # a warning says requested data is missing (report.exit_code)
    unchanged: bool | None = None  # the sinks wrote nothing, the data being the same; None: they cannot tell
    fingerprint: str | None = None
    quota_left: int | None = None
    quota_reset: datetime | None = None


@dataclass
class TaskEnv:
    """What a task needs from outside: settings (its profile applied) and how to connect to the APIs."""

    settings: Settings
    connect: Connector
    taken: datetime | None = None  # the run's slot (or start) on the job's wall clock: names snapshots
    spent: TaskResult = field(default_factory=TaskResult)  # requests sent so far, kept when the task fails


class Task(Protocol):
    def check(self) -> None:
        """Refuse, before any request, what could not run (unknown report, bad parameter or output)."""

    def output_locks(self) -> list[str]:
        """One lock name per output this task writes."""

    def run(self, env: TaskEnv) -> TaskResult:
        """Fetch, render, then write; SheetsyncError on failure (outputs untouched unless writing failed)."""


class ReportTask:
    """`report:` jobs: what `sheetsync run REPORT -p ... -o ...` does."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self.spec = job.spec

    def definition(self) -> Any:
        from sheetsync.definition import builtin_paths, find_definition

        name = self.spec.report
        return find_definition(name if name in builtin_paths() else self.job.resolve(name))

    def targets(self) -> list[Any]:
        from sheetsync.sinks.targets import parse_target

        return [parse_target(self.job.resolve(o)) for o in self.spec.outputs or []]

    def check(self) -> None:
        from sheetsync.definition import resolve_params
        from sheetsync.sinks.targets import check_targets

        definition = self.definition()
        values = resolve_params(definition, self.spec.params, missing_hint=MISSING_HINT)
        check_targets(self.targets(), many_workbooks=_burst_enabled(definition, values))
        if self.spec.profile is not None:
            load_settings(profile=self.spec.profile)

    def output_locks(self) -> list[str]:
        return [output_lock(target) for target in self.targets()]

    def run(self, env: TaskEnv) -> TaskResult:
        from sheetsync.definition import resolve_params
        from sheetsync.report import exit_code, run_report
        from sheetsync.sinks.targets import check_targets, needs_google

        definition = self.definition()
        values = resolve_params(definition, self.spec.params, missing_hint=MISSING_HINT)
        targets = self.targets()
        check_targets(targets, many_workbooks=_burst_enabled(definition, values))
        credentials = _google_credentials(env.settings) if needs_google(targets) else None
        with env.connect(env.settings) as connections:
            try:
                report = run_report(definition, values, connections, progress=False)
            finally:
                env.spent.requests, env.spent.not_modified = api_counts(connections)
            quota_left, quota_reset = kss_quota(connections)
        result = TaskResult(
            rows=_rows(report.summary),
            requests=env.spent.requests,
            not_modified=env.spent.not_modified,
            fingerprint=fingerprint(report.workbooks),
            quota_left=quota_left,
            quota_reset=quota_reset,
        )
        _write(targets, report.workbooks, credentials, result, report.summary)
        result.warnings = list(report.summary["warnings"])
        result.partial = exit_code(report.summary) != 0
        if self.spec.snapshot is not None:
            self._snapshot(targets, report.workbooks, credentials, env.taken or datetime.now(UTC), result)
        return result

    def _snapshot(
        self, targets: list[Any], workbooks: list[Any], credentials: Any, taken: datetime, result: TaskResult
    ) -> None:
        """Dated copies of the snapshot tab once the outputs are written; a failure is a warning (partial)."""
        from sheetsync.sinks.snapshot import find_tab, snapshot_targets

        spec = self.spec.snapshot
        problem = None
        if not any(find_tab(workbook, spec.tab) for workbook in workbooks):
            names = sorted({tab.name for workbook in workbooks for tab in workbook.tabs})
            problem = f"snapshot: the report has no tab {spec.tab!r} (tabs: {', '.join(names)})"
        else:
            try:
                result.outputs += snapshot_targets(targets, workbooks, spec.tab, taken, spec.keep, credentials)
            except SheetsyncError as exc:
                problem = f"snapshot of {spec.tab!r} not taken: {exc.message}"
        if problem is not None:
            result.warnings.append({"code": "snapshot", "message": problem, "subject": spec.tab})
            result.partial = True


TASKS = ("report", "statements")  # the keys of a job that name what it runs (spec.Job)


def task_for(job: Any) -> Task:
    if job.spec.kind == "statements":
        from sheetsync.schedule.statements_task import StatementsTask

        return StatementsTask(job)
    return ReportTask(job)


def output_lock(target: Any) -> str:
    """`output:<absolute path>` or `output:gsheet://ID`: two jobs writing the same place share it."""
    path = getattr(target, "path", None)
    if isinstance(path, Path):
        return f"output:{path.expanduser().resolve()}"
    return f"output:{target.describe()}"


def fingerprint(workbooks: list[Any]) -> str:
    """A digest of every value of every tab (not of formats): equal digests mean the data did not change."""
    digest = hashlib.sha256()
    for workbook in workbooks:
        for tab in workbook.tabs:
            digest.update(f"{workbook.name}/{tab.key}\n".encode())
            for row in tab.rows:
                digest.update(json.dumps(row, default=str, sort_keys=True).encode())
    return digest.hexdigest()[:32]


def kss_quota(connections: Connections) -> tuple[int | None, datetime | None]:
    """The KSS quota as the last response of this run reported it (None when KSS was not called)."""
    kss = connections.built("kss")
    if kss is None:
        return None, None
    left, reset = kss.http.quota()
    return left, datetime.fromtimestamp(reset, UTC) if reset else None


def api_counts(connections: Connections) -> tuple[dict[str, int], int]:
    """HTTP requests sent per API ("kss", "kotis") and 304 answers, from the clients these connections built."""
    requests: dict[str, int] = {}
    not_modified = 0
    for api in ("kss", "kotis"):
        stats = connections.request_stats(api)
        if stats is None:
            continue
        counts = stats.as_dict().values()
        requests[api] = sum(c.get("requests", 0) for c in counts)
        not_modified += sum(c.get("not_modified", 0) for c in counts)
    return requests, not_modified


def _write(targets: list[Any], workbooks: list[Any], credentials: Any, result: TaskResult, summary: Any) -> None:
    """Write target by target (so a failure says what was already written); xlsx files are refreshed
    in place and left alone when their data is unchanged."""
    from sheetsync.model import RunWarning
    from sheetsync.report import add_warnings
    from sheetsync.sinks.targets import GSheetTarget, write_outputs

    xlsx_written, others = [], False
    for target in targets:
        stats: dict[str, Any] = {}
        outcomes: list[Any] = []
        warnings: list[RunWarning] = []
        try:
            written = write_outputs(
                [target], workbooks, credentials=credentials, sheets_stats=stats, warnings=warnings,
                xlsx_outcomes=outcomes,
            )  # fmt: skip
        except SheetsyncError as exc:
            if not result.outputs:
                raise
            raise SinkError(f"{exc.message} (already written before it: {', '.join(result.outputs)})") from exc
        add_warnings(summary, warnings)
        result.outputs.extend(written)
        if isinstance(target, GSheetTarget):
            others = True
            sheet = stats.get(target.spreadsheet_id, {})
            result.sheets_calls += int(sheet.get("api_calls", 0))
            result.bytes_written += int(sheet.get("payload_bytes", 0))
        else:
            xlsx_written += [o.status != "unchanged" for o in outcomes]
            result.bytes_written += sum(_size(p) for p in written)
    result.unchanged = False if any(xlsx_written) else (None if others else True)


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _rows(summary: dict[str, Any]) -> dict[str, int]:
    return {f"{wb['name']}/{tab['name']}": int(tab["rows"]) for wb in summary["workbooks"] for tab in wb["tabs"]}


def _burst_enabled(definition: Any, values: dict[str, Any]) -> bool:
    from sheetsync.expr import Template, truthy

    enabled = definition.burst.enabled if definition.burst else False
    return truthy(enabled.render({"params": values}) if isinstance(enabled, Template) else enabled)


def _google_credentials(settings: Settings) -> Any:
    from sheetsync.sinks.gsheets import load_credentials

    return load_credentials(settings.google_credentials)


def default_connect(settings: Settings) -> AbstractContextManager[Any]:
    from sheetsync.connect import open_connections

    return open_connections(settings)
