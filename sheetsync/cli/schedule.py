"""`sheetsync schedule list|check|run-due|run|history`: thin adapters over sheetsync.schedule."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from sheetsync.errors import ConfigError, ExitCode

FILE_OPTION = click.option(
    "-f",
    "--file",
    "schedule_file",
    default="schedule.yaml",
    show_default=True,
    envvar="SHEETSYNC_SCHEDULE",
    type=click.Path(dir_okay=False),
    help="The schedule file (or SHEETSYNC_SCHEDULE).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (for machines).")


@click.group("schedule")
def schedule_group() -> None:
    """Run the jobs of schedule.yaml when they are due, never twice at once, with history and alerts.

    Call `run-due` every minute from cron, a systemd timer or any scheduler: it runs what is due
    and returns.

    \b
    Example:
      sheetsync schedule list
      sheetsync schedule run-due            # in crontab: * * * * * cd /srv/books && sheetsync schedule run-due
      sheetsync schedule run prices-daily
      sheetsync schedule history prices-daily --json
    """


@schedule_group.command("check")
@FILE_OPTION
def check(schedule_file: str) -> None:
    """Validate the schedule (jobs, reports, parameters, outputs, profiles) without any request.

    \b
    Example:
      sheetsync schedule check -f schedule.yaml
    """
    schedule = _schedule(schedule_file)
    click.echo(f"ok: {schedule_file}: {len(schedule.jobs)} job(s): {', '.join(j.name for j in schedule.jobs)}")


@schedule_group.command("list")
@FILE_OPTION
@JSON_OPTION
def list_jobs(schedule_file: str, as_json: bool) -> None:
    """Each job: its cron and zone, its next run in its zone, its last outcome and duration.

    \b
    Example:
      sheetsync schedule list
    """
    from sheetsync.schedule.views import job_rows

    schedule = _schedule(schedule_file)
    with _state() as state:
        rows = job_rows(schedule, state, datetime.now(UTC))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        last = f"last {row['last_outcome']}" + (f" in {row['last_seconds']:.1f} s" if row["last_seconds"] else "")
        click.echo(
            f"{row['job']:<24} {row['cron']:<16} next {row['next_run']:<26} "
            f"{last if row['last_outcome'] else 'never run'}"
        )


@schedule_group.command("run-due")
@FILE_OPTION
@click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True, help="How many jobs run at once.")
@JSON_OPTION
def run_due(schedule_file: str, jobs: int, as_json: bool) -> int:
    """Run the jobs due now, once each, then return. Exit code: the worst of their runs.

    A job missed while nothing called run-due runs once, not once per missed slot. A job whose lock
    is taken is skipped; a job the KSS quota cannot cover is deferred to a later run-due.

    \b
    Example:
      sheetsync schedule run-due --jobs 2 --json
    """
    schedule = _schedule(schedule_file)
    with _state() as state:
        scheduler = _scheduler(schedule, state, as_json)
        with _stopped_on_signals(scheduler):
            runs = scheduler.run_due(jobs=jobs)
    return _emit(runs, as_json)


@schedule_group.command("run")
@click.argument("job")
@FILE_OPTION
@JSON_OPTION
@click.option("--fail-on-skip", is_flag=True, help="Exit 1 when the job is skipped (its lock is held by another run).")
def run_job(job: str, schedule_file: str, as_json: bool, fail_on_skip: bool) -> int:
    """Run one job now, whatever its schedule (its locks still apply).

    A job whose lock another run holds is skipped: one line says by whom, exit code 0 (1 with
    --fail-on-skip).

    \b
    Example:
      sheetsync schedule run prices-daily
    """
    schedule = _schedule(schedule_file)
    with _state() as state:
        scheduler = _scheduler(schedule, state, as_json)
        with _stopped_on_signals(scheduler):
            run = scheduler.run_job(job)
    return _emit([run], as_json, fail_on_skip=fail_on_skip)


@schedule_group.command("history")
@click.argument("job", required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="How many runs.")
@JSON_OPTION
def history(job: str | None, limit: int, as_json: bool) -> None:
    """Every run, newest first: outcome, duration, rows, requests, 304s, Sheets calls, bytes, error.

    \b
    Example:
      sheetsync schedule history prices-daily --limit 50
    """
    from sheetsync.schedule.views import history_line

    with _state() as state:
        runs = state.runs(job, limit=limit)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs], indent=2))
        return
    for run in runs:
        click.echo(history_line(run))
    if not runs:
        click.echo(f"no runs yet{' of ' + job if job else ''}", err=True)


@schedule_group.command("serve")
@FILE_OPTION
@click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True, help="How many jobs run at once.")
@click.option(
    "--grace", type=click.FloatRange(0), default=30.0, show_default=True, help="Seconds a job may finish after a stop."
)
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--health-port", type=click.IntRange(0, 65535), help="Serve /healthz and /readyz on this port.")
@click.option("--health-host", default="127.0.0.1", show_default=True, help="The address of the health server.")
def serve(
    schedule_file: str, jobs: int, grace: float, log_format: str, health_port: int | None, health_host: str
) -> int:
    """Run the jobs on time in this process (for a container), with run-due's rules, until stopped.

    Every minute it runs what is due, like `run-due`. SIGTERM or Ctrl-C: no new job starts and the
    running ones get --grace seconds to finish; then, or at a second signal, they are recorded
    interrupted with their outputs untouched and the process ends (even with a request in flight).

    \b
    Example:
      sheetsync schedule serve --log-format json --health-port 8080
    """
    from sheetsync.cli.common import settings_from_context
    from sheetsync.schedule.serve import HealthServer, ServeLoop, json_logger, text_logger
    from sheetsync.schedule.stopping import end_process

    schedule = _schedule(schedule_file)
    settings = settings_from_context()
    with _state() as state:
        scheduler = _scheduler(schedule, state, log_format == "json")
        write = lambda line: click.echo(line, err=True)  # noqa: E731
        log = json_logger(write, scheduler.clock) if log_format == "json" else text_logger(write)
        if log_format == "json":
            scheduler.report = lambda line: log({"event": "progress", "message": line})
        loop = ServeLoop(scheduler, grace=grace, jobs=jobs, log=log, end_process=end_process)
        loop.install_signal_handlers()
        if health_port is None:
            return loop.serve()
        with HealthServer(loop, lambda: _probe_store(settings.store_location), health_port, health_host) as health:
            log({"event": "health", "url": f"http://{health_host}:{health.port}/healthz"})
            return loop.serve()


def _probe_store(location: str) -> None:
    """Open the state store and read from it (raises when it cannot be reached)."""
    from sheetsync.store import Actor, open_store

    store = open_store(location, actor=Actor.current())
    try:
        store.get("schedule.jobs", "-")
    finally:
        store.close()


@schedule_group.command("emit")
@click.option("--target", required=True, type=click.Choice(["cron", "systemd", "k8s", "github"]), help="The scheduler.")
@FILE_OPTION
@click.option(
    "--workdir", type=click.Path(file_okay=False), help="cron, systemd: where run-due runs (default: the schedule's)."
)
@click.option("--image", help="k8s: an image with sheetsync installed (docker build -t IMAGE . in this repository).")
@click.option("--install", help="github: what `pip install` installs (default: . = the checkout, a sheetsync clone).")
@click.option("-o", "--output-dir", type=click.Path(), help="Write the files into this existing directory.")
def emit(
    target: str, schedule_file: str, workdir: str | None, image: str | None, install: str | None, output_dir: str | None
) -> None:
    """Print a recipe that calls `run-due` every minute: a crontab line, a systemd service and timer,
    a Kubernetes CronJob or a GitHub Actions workflow. The schedule file is checked first.

    \b
    Example:
      (crontab -l; sheetsync schedule emit --target cron -f /srv/books/schedule.yaml) | crontab -
      sheetsync schedule emit --target systemd -f /srv/books/schedule.yaml -o units/
      sheetsync schedule emit --target k8s --image registry.example.com/sheetsync:1.0 > cronjob.yaml
      sheetsync schedule emit --target github -o .github/workflows
    """
    from sheetsync.cli.common import settings_from_context
    from sheetsync.schedule.emit import local_output_warnings, recipe, recipe_inputs, store_warning, write_units

    if output_dir is not None and not Path(output_dir).is_dir():
        raise ConfigError(f"-o {output_dir}: no such directory (create it first)")
    schedule = _schedule(schedule_file)
    inputs = recipe_inputs(target, schedule.path, workdir=workdir, image=image, install=install)
    units = recipe(target, inputs)
    warning = store_warning(target, settings_from_context().store_location)
    for line in ([warning] if warning else []) + local_output_warnings(target, schedule.jobs):
        click.echo(f"warning: {line}", err=True)
    if output_dir:
        for written in write_units(units, Path(output_dir)):
            click.echo(f"wrote {written}", err=True)
        return
    for i, unit in enumerate(units):
        if len(units) > 1:
            click.echo(f"{chr(10) if i else ''}# ---- {unit.name}")
        click.echo(unit.text, nl=False)


def _schedule(path: str) -> Any:
    from sheetsync.schedule.spec import load_schedule

    return load_schedule(path)


@contextmanager
def _state() -> Iterator[Any]:
    from sheetsync.cli.common import settings_from_context
    from sheetsync.schedule.store_state import open_state

    with open_state(settings_from_context()) as state:
        yield state


def _scheduler(schedule: Any, state: Any, as_json: bool) -> Any:
    from sheetsync.alerts import Alerter
    from sheetsync.cli.common import settings_from_context
    from sheetsync.mailer import SmtpSettings
    from sheetsync.schedule.runner import Scheduler

    def smtp() -> SmtpSettings:
        return SmtpSettings.from_settings(settings_from_context())

    return Scheduler(schedule, state, alerter=Alerter(smtp), report=lambda line: click.echo(line, err=True))


def _emit(runs: list[Any], as_json: bool, *, fail_on_skip: bool = False) -> int:
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs], indent=2))
    elif not runs:
        click.echo("nothing due", err=True)
    return max((_exit_code(r, fail_on_skip) for r in runs), default=0)


def _exit_code(run: Any, fail_on_skip: bool) -> int:
    """A skip (lock held) is not a failure unless asked; a manual run deferred by the quota did not run."""
    if run.outcome == "skipped":
        return int(ExitCode.PARTIAL) if fail_on_skip else 0
    if run.outcome == "deferred":
        return int(ExitCode.PARTIAL) if run.trigger == "manual" else 0
    return int(run.exit_code or 0)


@contextmanager
def _stopped_on_signals(scheduler: Any) -> Iterator[None]:
    """SIGTERM (a scheduler's timeout, systemd stop) and Ctrl-C end the run now: recorded interrupted,
    and the process ends within seconds even when a request is in flight (stopping.HardStop)."""
    from sheetsync.schedule.stopping import HardStop, end_process

    stopper = HardStop(scheduler, end_process=end_process, on_end=lambda code: click.echo("Interrupted.", err=True))

    def stop(signum: int, frame: Any) -> None:
        scheduler.stop.set()
        stopper.begin(128 + signum)
        raise SystemExit(128 + signum)

    signals = (signal.SIGTERM, signal.SIGINT) if _main_thread() else ()
    previous = {signum: signal.signal(signum, stop) for signum in signals}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if stopper.code is not None:
            stopper.done(stopper.code)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread() and sys.platform != "win32"


COMMANDS: list[click.Command] = [schedule_group]
