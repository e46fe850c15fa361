"""schedule.yaml -> validated jobs; every mistake is one line naming the file, the line and the key.

    timezone: America/New_York          # default zone of every job (IANA name; default UTC)
    alerts:                             # default alert policy of every job
      on: [failure, recovery]           # failure (always), partial, recovery, changed
      webhook: env:SHEETSYNC_ALERT_WEBHOOK   # Slack/Teams incoming-webhook URL (or env:VAR)
      email: [ops@example.com]          # sent with the [smtp] settings
    jobs:
      - name: prices-daily              # lower-case letters, digits, - _ .
        report: price-list              # a built-in report or a .yaml path (relative to this file)
        params: {customer_ids: [1, 2]}
        outputs: [out/prices.xlsx, gsheet://1AbC...]   # relative paths are relative to this file
        cron: "30 6 * * 1-5"            # minute hour day-of-month month day-of-week (croniter)
        timezone: Europe/London         # this job's zone (default: the file's)
        profile: staging                # [profiles.staging.*] of sheetsync.toml: keys and environment
        timeout_minutes: 60             # its locks expire after this long if the process died
        alerts: {on: [failure, partial], email: [finance@example.com]}
        snapshot: {tab: Summary, keep: 8}   # dated copies of a tab (sheetsync.sinks.snapshot)

A job runs one command of sheetsync: `report:` (what `sheetsync run` does) or `statements:` (what
`sheetsync statements build` + `send` do; see StatementsRun). Another kind is one more optional key
on `Job` plus an entry in `sheetsync.schedule.tasks.TASKS`.

      - name: statements-monthly
        statements: {pdf: out/statements, recipients: billing.csv, bcc: ar@example.com, apply: true}
        params: {states: CA}            # ar-aging parameters
        cron: "0 7 1 * *"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sheetsync.errors import DefinitionError, SheetsyncError
from sheetsync.schedule.timing import CronSchedule, check_cron, zone
from sheetsync.yaml_lines import YamlDocument, load_yaml, validate

ALERT_EVENTS = ("failure", "partial", "recovery", "changed")
AlertEvent = Literal["failure", "partial", "recovery", "changed"]
_JOB_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertPolicy(_Strict):
    """Who hears about a job's runs, and on which outcomes (a failure always alerts)."""

    on: list[AlertEvent] = Field(default_factory=lambda: list[AlertEvent](["failure"]))
    webhook: list[str] = Field(default_factory=list)
    """Incoming-webhook URLs (Slack, Teams, anything that takes a JSON POST); `env:VAR` reads one."""
    email: list[str] = Field(default_factory=list)

    @field_validator("webhook", "email", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("webhook")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://", "env:")):
                raise ValueError("a webhook is an http(s):// URL or env:VARIABLE")
        return urls

    @field_validator("email")
    @classmethod
    def _addresses(cls, addresses: list[str]) -> list[str]:
        for address in addresses:
            if "@" not in address or " " in address.strip():
                raise ValueError(f"{address!r} is not an e-mail address")
        return addresses

    @property
    def events(self) -> set[str]:
        return {"failure", *self.on}


class Snapshot(_Strict):
    """Keep dated copies of one tab (plain values): a dated tab in Google Sheets, a dated file beside an xlsx."""

    tab: str
    """The tab's name as the report names it (e.g. Summary)."""
    keep: Annotated[int, Field(gt=0, le=1000)] = 8
    """How many snapshots of the tab to keep; the oldest beyond are deleted."""


class StatementsRun(_Strict):
    """`statements:` jobs: `sheetsync statements build` then `statements send` (e.g. monthly statements).

    The job's `params` are the ar-aging parameters (`statements build -p`). Each statement is sent at
    most once (the send log in the state store, keyed by customer and statement date); `--resend` has
    no key here, since a schedule repeats: resend from the command line."""

    pdf: str
    """The folder for the PDFs and statements.json (`--pdf`), relative to the schedule file."""
    combined: bool = False
    """Also print every statement into statements-combined.pdf (`--combined`)."""
    send: bool = True
    """E-mail the statements after building them (false: build only)."""
    apply: bool = False
    """Send for real (`--apply`); false: the run records the plan only, in its history."""
    recipients: str | None = None
    """CSV or xlsx file (CustomerID, To, Cc), relative to the schedule file (`--recipients`)."""
    recipients_from_api: bool = False
    """Mail the customers' KSS users, buyers rather than billing contacts (`--recipients-from-api`)."""
    bcc: list[str] = Field(default_factory=list)
    """Blind copy of every message, e.g. the AR mailbox (`--bcc`)."""
    test_to: str | None = None
    """Every message to this one address, nothing recorded as sent (`--test-to`)."""

    @field_validator("bcc", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source_of_recipients(self) -> StatementsRun:
        if self.send and (self.recipients is None) == (not self.recipients_from_api):
            raise ValueError("a statements job that sends needs either recipients: FILE or recipients_from_api: true")
        return self


class Job(_Strict):
    """One scheduled job: what it runs, where the output goes, when, with which keys, who is told."""

    name: str
    report: str | None = None
    """A built-in report name or a definition file (runs what `sheetsync run REPORT` runs)."""
    statements: StatementsRun | None = None
    """Build and e-mail the customer statements (what `sheetsync statements build` + `send` do)."""
    params: dict[str, Any] = Field(default_factory=dict)
    outputs: Annotated[list[str], Field(min_length=1)] | None = None
    """Where a report job writes (a statements job writes into `statements: {pdf: ...}`)."""
    cron: str
    timezone: str | None = None
    profile: str | None = None
    timeout_minutes: Annotated[int, Field(gt=0, le=24 * 60)] = 60
    alerts: AlertPolicy | None = None
    snapshot: Snapshot | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _JOB_NAME.match(name):
            raise ValueError(f"job name {name!r}: use lower-case letters, digits, '-', '_' and '.'")
        return name

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        return check_cron(cron)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str | None) -> str | None:
        if name is not None:
            zone(name)
        return name

    @field_validator("outputs", mode="before")
    @classmethod
    def _one_output(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_task(self) -> Job:
        from sheetsync.schedule.tasks import TASKS

        kinds = [kind for kind in TASKS if getattr(self, kind) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a job runs exactly one of: {', '.join(TASKS)} (found {len(kinds)})")
        if self.report is not None and not self.outputs:
            raise ValueError("a report job needs outputs: (files, folders or gsheet:// URLs)")
        if self.statements is not None and (self.outputs is not None or self.snapshot is not None):
            raise ValueError("a statements job writes into statements: {pdf: FOLDER}; it takes no outputs or snapshot")
        return self

    @property
    def kind(self) -> str:
        from sheetsync.schedule.tasks import TASKS

        return next(kind for kind in TASKS if getattr(self, kind) is not None)


class ScheduleFile(_Strict):
    timezone: str = "UTC"
    alerts: AlertPolicy | None = None
    jobs: Annotated[list[Job], Field(min_length=1)]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        zone(name)
        return name

    @field_validator("jobs")
    @classmethod
    def _unique_names(cls, jobs: list[Job]) -> list[Job]:
        seen: set[str] = set()
        for job in jobs:
            if job.name in seen:
                raise ValueError(f"two jobs are named {job.name!r}")
            seen.add(job.name)
        return jobs


@dataclass(frozen=True)
class ScheduledJob:
    """A validated job with its file's defaults applied and its paths resolved."""

    spec: Job
    base_dir: Path
    timezone: str
    alerts: AlertPolicy
    line: int | None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def schedule(self) -> CronSchedule:
        return CronSchedule(self.spec.cron, self.timezone)

    def resolve(self, path: str) -> str:
        """An output or definition path relative to the schedule file (gsheet:// and URLs unchanged)."""
        if "://" in path or path.startswith("https:") or Path(path).is_absolute():
            return path
        resolved = str(self.base_dir / path)
        return resolved + "/" if path.endswith("/") else resolved


@dataclass(frozen=True)
class Schedule:
    path: Path
    jobs: list[ScheduledJob]

    def job(self, name: str) -> ScheduledJob:
        from sheetsync.suggest import did_you_mean

        for job in self.jobs:
            if job.name == name:
                return job
        names = [j.name for j in self.jobs]
        from sheetsync.errors import ScheduleError

        raise ScheduleError(f"no job '{name}' in {self.path}{did_you_mean(name, names)} (jobs: {', '.join(names)})")


def parse_schedule(text: str, file: str, *, check_tasks: bool = True) -> Schedule:
    """Validate a schedule; with `check_tasks`, each job's report, parameters and outputs too."""
    doc = load_yaml(text, file)
    parsed = validate(ScheduleFile, doc)
    base_dir = Path(file).parent
    jobs = [
        ScheduledJob(
            job,
            base_dir,
            job.timezone or parsed.timezone,
            job.alerts or parsed.alerts or AlertPolicy(),
            doc.line_of(("jobs", i)),
        )
        for i, job in enumerate(parsed.jobs)
    ]
    if check_tasks:
        for i, job in enumerate(jobs):
            _check_task(job, doc, i)
    return Schedule(Path(file), jobs)


def load_schedule(path: str | Path, *, check_tasks: bool = True) -> Schedule:
    """Read and validate a schedule file (DefinitionError naming file and line on any mistake)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read the schedule {path}: {exc.strerror}") from None
    return parse_schedule(text, str(path), check_tasks=check_tasks)


def _check_task(job: ScheduledJob, doc: YamlDocument, index: int) -> None:
    from sheetsync.schedule.tasks import task_for

    try:
        task_for(job).check()
    except SheetsyncError as exc:
        line = doc.line_of(("jobs", index, _key_of(exc, job.spec.kind)))
        raise DefinitionError(f"job {job.name}: {exc.message}", file=doc.file, line=line) from None


def _key_of(error: SheetsyncError, kind: str = "report") -> str:
    """Which key of a job an error of its task is about, for the line number."""
    from sheetsync.errors import ConfigError, ParameterError, SinkError

    if isinstance(error, ParameterError):
        return "params"
    if kind == "statements":
        return "statements"
    if isinstance(error, SinkError):
        return "outputs"
    if isinstance(error, ConfigError):
        return "profile"
    return "report"
