"""Recipes for the schedulers teams already run: each calls `sheetsync schedule run-due` on a timer.

Due times are computed by sheetsync in each job's own zone, so every recipe simply calls `run-due`
often (cron has no per-job zone; a systemd timer, a Kubernetes CronJob and a GitHub schedule run in
UTC or the host's zone): a call when nothing is due returns at once.

    units = recipe("systemd", RecipeInputs(workdir="/srv/books", schedule="schedule.yaml"))
    for unit in units: print(unit.name, unit.text)

Kubernetes and GitHub Actions throw their disk away after each run: history and locks must live in
the shared PostgreSQL store (`SHEETSYNC_DB=postgresql://...`), which `store_warning` checks.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

TARGETS = ("cron", "systemd", "k8s", "github")
UNIT = "sheetsync-schedule"
SECRET = "sheetsync"  # the Kubernetes Secret (and the names of the GitHub secrets) holding keys and the store URL
SECRET_VARIABLES = ("KSS_API_KEY", "KOTIS_API_KEY", "SHEETSYNC_DB")


@dataclass(frozen=True)
class RecipeInputs:
    """Where the schedule lives and how sheetsync is started there."""

    workdir: str  # the folder holding schedule.yaml (and sheetsync.toml), absolute
    schedule: str = "schedule.yaml"  # relative to workdir
    executable: str = "sheetsync"  # an absolute path for cron and systemd
    image: str = "ghcr.io/example/sheetsync:latest"  # Kubernetes: an image with sheetsync installed
    install: str = "sheetsync"  # GitHub Actions: what `pip install` installs


@dataclass(frozen=True)
class Unit:
    """One file of a recipe: its conventional file name and its text."""

    name: str
    text: str


def recipe(target: str, inputs: RecipeInputs) -> list[Unit]:
    """The files of a recipe for `target` (one of TARGETS); ValueError listing them for another name."""
    makers = {"cron": _cron, "systemd": _systemd, "k8s": _kubernetes, "github": _github}
    if target not in makers:
        raise ValueError(f"unknown target {target!r} (targets: {', '.join(TARGETS)})")
    return makers[target](inputs)


def store_warning(target: str, store_location: str) -> str | None:
    """Why a recipe cannot keep history and locks with this store, or None."""
    if target not in ("k8s", "github") or store_location.startswith(("postgresql://", "postgres://")):
        return None
    where = "Kubernetes" if target == "k8s" else "GitHub Actions"
    return (
        f"the configured state store is a local file ({store_location}); {where} throws its disk away "
        "after each run, so history, locks and due times would be lost: set SHEETSYNC_DB to a "
        "postgresql:// URL in the secret"
    )


def run_due_args(inputs: RecipeInputs) -> list[str]:
    return [inputs.executable, "schedule", "run-due", "-f", inputs.schedule]


def _cron(inputs: RecipeInputs) -> list[Unit]:
    command = " ".join(shlex.quote(a) for a in run_due_args(inputs))
    line = f"* * * * * cd {shlex.quote(inputs.workdir)} && {command} >> sheetsync-schedule.log 2>&1"
    header = "# sheetsync: run the due jobs every minute (each job's zone is in schedule.yaml); `crontab -e`\n"
    return [Unit("sheetsync.crontab", header + line + "\n")]


def _systemd(inputs: RecipeInputs) -> list[Unit]:
    service = f"""\
[Unit]
Description=sheetsync: run the scheduled jobs that are due
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
WorkingDirectory={inputs.workdir}
EnvironmentFile=-/etc/sheetsync/environment
ExecStart={" ".join(run_due_args(inputs))}
# run-due finishes or records the running job as interrupted on SIGTERM
TimeoutStopSec=120
"""
    timer = f"""\
[Unit]
Description=sheetsync: call run-due every minute

[Timer]
OnCalendar=*-*-* *:*:00
AccuracySec=1s
Persistent=true
Unit={UNIT}.service

[Install]
WantedBy=timers.target
"""
    return [Unit(f"{UNIT}.service", service), Unit(f"{UNIT}.timer", timer)]


def _kubernetes(inputs: RecipeInputs) -> list[Unit]:
    env = "\n".join(_secret_variable(variable, optional=variable != "SHEETSYNC_DB") for variable in SECRET_VARIABLES)
    args = ", ".join(f'"{a}"' for a in run_due_args(RecipeInputs(inputs.workdir, "/config/schedule.yaml")))
    text = f"""\
# kubectl create secret generic {SECRET} --from-literal=SHEETSYNC_DB=postgresql://USER:PASSWORD@HOST/DB \\
#   --from-literal=KSS_API_KEY=... --from-literal=KOTIS_API_KEY=...
# kubectl create configmap sheetsync-schedule --from-file=schedule.yaml --from-file=sheetsync.toml
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {UNIT}
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 5
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: run-due
              image: {inputs.image}
              command: [{args}]
              workingDir: /config
              env:
{env}
              volumeMounts:
                - {{name: schedule, mountPath: /config, readOnly: true}}
          volumes:
            - name: schedule
              configMap: {{name: sheetsync-schedule}}
"""
    return [Unit(f"{UNIT}-cronjob.yaml", text)]


def _secret_variable(variable: str, *, optional: bool) -> str:
    reference = f"{{name: {SECRET}, key: {variable}, optional: {str(optional).lower()}}}"
    return f"""\
                - name: {variable}
                  valueFrom:
                    secretKeyRef: {reference}"""


def _github(inputs: RecipeInputs) -> list[Unit]:
    env = "\n".join(f"      {v}: ${{{{ secrets.{v} }}}}" for v in SECRET_VARIABLES)
    text = f"""\
# .github/workflows/{UNIT}.yml: secrets SHEETSYNC_DB (postgresql://...), KSS_API_KEY, KOTIS_API_KEY
name: sheetsync schedule
on:
  schedule:
    - cron: "*/5 * * * *"  # GitHub runs schedules at most every 5 minutes (in UTC), often late
  workflow_dispatch: {{}}
concurrency:
  group: {UNIT}
  cancel-in-progress: false
jobs:
  run-due:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    env:
{env}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install {shlex.quote(inputs.install)}
      - run: {" ".join(shlex.quote(a) for a in run_due_args(RecipeInputs(inputs.workdir, inputs.schedule)))}
"""
    return [Unit(f"{UNIT}.yml", text)]
