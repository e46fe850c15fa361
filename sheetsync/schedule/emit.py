"""Recipes for the schedulers teams already run: each calls `sheetsync schedule run-due` on a timer.

Due times are computed by sheetsync in each job's own zone, so every recipe simply calls `run-due`
often (cron has no per-job zone; a systemd timer, a Kubernetes CronJob and a GitHub schedule run in
UTC or the host's zone): a call when nothing is due returns at once.

    units = recipe("systemd", recipe_inputs("systemd", Path("/srv/books/schedule.yaml")))
    for unit in units: print(unit.name, unit.text)

Every path in a recipe is where the scheduler will find it: absolute on this host (cron, systemd,
run as the schedule file's owner), inside the container (Kubernetes), relative to the repository's
root on the checkout (GitHub Actions). sheetsync is not on PyPI: the image is one you build from this
repository's Dockerfile, and the workflow installs the checkout (`pip install .`). Keys and the
store's URL come from the scheduler's secrets, never from the recipe.

Kubernetes and GitHub Actions throw their disk away after each run: history and locks must live in
the shared PostgreSQL store (`SHEETSYNC_DB=postgresql://...`), which `store_warning` checks.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sheetsync.errors import ConfigError

TARGETS = ("cron", "systemd", "k8s", "github")
UNIT = "sheetsync-schedule"
SECRET = "sheetsync"  # the Kubernetes Secret (and the names of the GitHub secrets) holding keys and the store URL
SECRET_VARIABLES = ("KSS_API_KEY", "KOTIS_API_KEY", "SHEETSYNC_DB")
GOOGLE_SECRET = "sheetsync-google"  # Kubernetes: the Secret holding the service account's credentials.json
GOOGLE_MOUNT = "/var/run/secrets/sheetsync-google"
GOOGLE_JSON = "GOOGLE_CREDENTIALS_JSON"  # GitHub Actions: the secret holding the service account's JSON


@dataclass(frozen=True)
class RecipeInputs:
    """Where the schedule lives and how sheetsync is started there (see recipe_inputs)."""

    workdir: str  # where run-due runs (sheetsync.toml is read there): absolute, or relative to the repository root
    schedule: str = "schedule.yaml"  # the -f argument, as the scheduler sees it
    executable: str = "sheetsync"  # an absolute path for cron and systemd
    image: str = ""  # Kubernetes: an image with sheetsync installed (built from this repository's Dockerfile)
    install: str = "."  # GitHub Actions: what `pip install` installs (the checkout)
    user: str = ""  # systemd: the account the service runs as (the schedule file's owner)


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


def recipe_inputs(
    target: str, schedule: Path, *, workdir: str | None = None, image: str | None = None, install: str | None = None
) -> RecipeInputs:
    """What a recipe needs, checked: ConfigError when the recipe could not work as printed."""
    if target == "k8s":
        if not image:
            raise ConfigError(
                "--target k8s needs --image IMAGE: an image with sheetsync installed, e.g. built from this "
                "repository with `docker build -t registry.example.com/sheetsync:1.0 .` and pushed"
            )
        return RecipeInputs("/config", f"/config/{schedule.name}", image=image)
    if target == "github":
        return _github_inputs(schedule, install)
    folder = Path(workdir).expanduser() if workdir else schedule.parent
    if workdir and not folder.is_dir():
        raise ConfigError(f"--workdir {workdir}: no such directory")
    argument = schedule.name if not workdir else str(schedule.resolve())
    return RecipeInputs(str(folder.resolve()), argument, _executable(), user=_owner(schedule))


def _github_inputs(schedule: Path, install: str | None) -> RecipeInputs:
    root = repository_root(schedule.resolve().parent)
    if root is None:
        raise ConfigError(
            f"--target github: {schedule} is not inside a git repository; the workflow runs on a checkout "
            "of the repository holding the schedule: commit it to one, then run emit there"
        )
    relative = schedule.resolve().relative_to(root)
    if install is None and not _is_sheetsync_project(root):
        raise ConfigError(
            f"--target github: the repository {root} is not a sheetsync checkout, so `pip install .` would not "
            "install sheetsync there: give --install with where it comes from (e.g. git+https://HOST/ORG/sheetsync)"
        )
    return RecipeInputs(relative.parent.as_posix(), relative.as_posix(), install=install or ".")


def repository_root(folder: Path) -> Path | None:
    """The top folder of the git repository holding `folder` (`git rev-parse --show-toplevel`), or None."""
    try:
        found = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
        )
    except OSError:  # git not installed
        return None
    return Path(found.stdout.strip()).resolve() if found.returncode == 0 and found.stdout.strip() else None


def _is_sheetsync_project(root: Path) -> bool:
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(r'^name\s*=\s*"sheetsync"', text, re.MULTILINE) is not None


def _executable() -> str:
    """sheetsync's absolute path (cron's and systemd's PATH are short): the one on PATH, else beside Python."""
    found = shutil.which("sheetsync") or str(Path(sys.executable).with_name("sheetsync"))
    return os.path.abspath(found)


def _owner(path: Path) -> str:
    """The account owning the schedule file (or its folder): the systemd service runs as that user, so
    it reads their sheetsync.toml and writes their state store, as their own `sheetsync` does."""
    target = path if path.exists() else path.parent
    try:
        return pwd.getpwuid(target.stat().st_uid).pw_name
    except (OSError, KeyError):
        return ""


def local_output_warnings(target: str, jobs: list[Any]) -> list[str]:
    """Jobs writing local files where the disk is thrown away after each run (Kubernetes, GitHub Actions)."""
    if target not in ("k8s", "github"):
        return []
    where = "Kubernetes" if target == "k8s" else "GitHub Actions"
    found = []
    for job in jobs:
        statements = getattr(job.spec, "statements", None)
        written = (job.spec.outputs or []) + ([statements.pdf] if statements is not None else [])
        local = [o for o in written if "://" not in o]
        if local:
            found.append(
                f"job {job.name} writes {', '.join(local)}: on {where} a local file is thrown away with the "
                "runner; write to gsheet:// outputs (or keep files on a mounted volume)"
            )
    return found


def write_units(units: list[Unit], folder: Path) -> list[Path]:
    """Write each unit into an existing folder (each file replaced whole); the paths written."""
    written = []
    for unit in units:
        path = folder / unit.name
        partial = path.with_name(f".{unit.name}.partial")
        try:
            partial.write_text(unit.text, encoding="utf-8")
            partial.replace(path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


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
    line = line.replace("%", "\\%")  # cron turns a bare % into a newline
    header = "# sheetsync: run the due jobs every minute (each job's zone is in schedule.yaml); `crontab -e`\n"
    return [Unit("sheetsync.crontab", header + line + "\n")]


def _systemd(inputs: RecipeInputs) -> list[Unit]:
    user = f"User={inputs.user}\n" if inputs.user else ""
    service = f"""\
[Unit]
Description=sheetsync: run the scheduled jobs that are due
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
{user}WorkingDirectory={_systemd_escape(inputs.workdir)}
# keys and SHEETSYNC_DB, if not in sheetsync.toml: KEY=value lines, readable by root only (chmod 600)
EnvironmentFile=-/etc/sheetsync/environment
ExecStart={" ".join(_systemd_quote(a) for a in run_due_args(inputs))}
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


def _systemd_escape(text: str) -> str:
    return text.replace("%", "%%")  # % starts a specifier


def _systemd_quote(argument: str) -> str:
    """One ExecStart argument: double-quoted when it holds a space, a quote or a backslash."""
    if re.search(r'[\s"\'\\]', argument):
        argument = '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _systemd_escape(argument)


def _kubernetes(inputs: RecipeInputs) -> list[Unit]:
    env = "\n".join(_secret_variable(variable, optional=variable != "SHEETSYNC_DB") for variable in SECRET_VARIABLES)
    args = ", ".join(json.dumps(a) for a in run_due_args(inputs))
    text = f"""\
# kubectl create secret generic {SECRET} --from-literal=SHEETSYNC_DB=postgresql://USER:PASSWORD@HOST/DB \\
#   --from-literal=KSS_API_KEY=... --from-literal=KOTIS_API_KEY=...
# kubectl create configmap sheetsync-schedule --from-file={PurePosixPath(inputs.schedule).name} \\
#   --from-file=sheetsync.toml   # settings without keys: the keys come from the Secret
# kubectl create secret generic {GOOGLE_SECRET} --from-file=credentials.json=SERVICE-ACCOUNT.json
#   # only for jobs writing gsheet:// outputs (the service account the sheets are shared with)
# /config is read-only: write the jobs' outputs to Google Sheets (or mount a volume for xlsx files)
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
                - {{name: SHEETSYNC_GOOGLE_CREDENTIALS, value: {GOOGLE_MOUNT}/credentials.json}}
              volumeMounts:
                - {{name: schedule, mountPath: /config, readOnly: true}}
                - {{name: google, mountPath: {GOOGLE_MOUNT}, readOnly: true}}
          volumes:
            - name: schedule
              configMap: {{name: sheetsync-schedule}}
            - name: google
              secret: {{secretName: {GOOGLE_SECRET}, optional: true, defaultMode: 0400}}
"""
    return [Unit(f"{UNIT}-cronjob.yaml", text)]


def _secret_variable(variable: str, *, optional: bool) -> str:
    reference = f"{{name: {SECRET}, key: {variable}, optional: {str(optional).lower()}}}"
    return f"""\
                - name: {variable}
                  valueFrom:
                    secretKeyRef: {reference}"""


def _github(inputs: RecipeInputs) -> list[Unit]:
    env = "\n".join(f"      {v}: ${{{{ secrets.{v} }}}}" for v in (*SECRET_VARIABLES, GOOGLE_JSON))
    schedule = re.sub(r'(["$`\\])', r"\\\1", inputs.schedule)  # inside double quotes in the shell
    folder = "" if inputs.workdir in ("", ".") else f"        working-directory: {json.dumps(inputs.workdir)}\n"
    text = f"""\
# .github/workflows/{UNIT}.yml of the repository holding {inputs.schedule} (paths from its root)
# secrets (Settings > Secrets and variables > Actions): SHEETSYNC_DB (postgresql://...), KSS_API_KEY, KOTIS_API_KEY,
# and {GOOGLE_JSON} (the service account's JSON key) for jobs writing gsheet:// outputs
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
      - name: install sheetsync (it is not on PyPI)
        run: pip install {shlex.quote(inputs.install)}
      - name: run the due jobs (in the schedule's folder, which holds its sheetsync.toml)
{folder}        run: |
          if [ -n "${GOOGLE_JSON}" ]; then  # the key goes to a private file of the runner, never to the log
            (umask 077; printf '%s' "${GOOGLE_JSON}" > "$RUNNER_TEMP/google.json")
            export SHEETSYNC_GOOGLE_CREDENTIALS="$RUNNER_TEMP/google.json"
          fi
          sheetsync schedule run-due -f "$GITHUB_WORKSPACE/{schedule}"
"""
    return [Unit(f"{UNIT}.yml", text)]
