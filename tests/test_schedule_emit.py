"""`sheetsync schedule emit`: each recipe parses as its scheduler reads it and calls run-due."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely


def emit(capsys, *args: str) -> tuple[int, str, str]:
    code = run_safely(cli, ["schedule", "emit", *args])
    out, err = capsys.readouterr()
    return code, out, err


SCHEDULE = """\
jobs:
  - name: prices
    report: price-list
    params: {customer_ids: [1, 2]}
    outputs: out/prices.xlsx
    cron: "0 6 * * 1-5"
"""


def write_schedule(folder: Path, name: str = "schedule.yaml") -> Path:
    (folder / "out").mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(SCHEDULE)
    return folder / name


def git_repository(root: Path, *, sheetsync_project: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    if sheetsync_project:
        (root / "pyproject.toml").write_text('[project]\nname = "sheetsync"\nversion = "0.1.0"\n')
    return root


@pytest.fixture(autouse=True)
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETSYNC_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.chdir(tmp_path)
    write_schedule(tmp_path)
    write_schedule(tmp_path / "books")


def test_cron_is_one_line_of_five_fields_calling_run_due_in_the_schedule_folder(capsys, tmp_path: Path) -> None:
    code, out, err = emit(capsys, "--target", "cron", "-f", "books/schedule.yaml")
    [line] = [line for line in out.splitlines() if line and not line.startswith("#")]
    fields = line.split(None, 5)
    assert code == 0 and fields[:5] == ["*"] * 5
    assert f"cd {tmp_path / 'books'} && " in fields[5]
    assert "sheetsync schedule run-due -f schedule.yaml" in fields[5] and err == ""
    executable = fields[5].split(" && ")[1].split()[0]
    assert Path(executable).is_absolute() and Path(executable).exists()  # cron's PATH is short


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze (Debian package systemd)")
def test_systemd_units_pass_systemd_analyze_verify(capsys, tmp_path: Path) -> None:
    (tmp_path / "units").mkdir()
    code, out, err = emit(capsys, "--target", "systemd", "-o", str(tmp_path / "units"))
    assert code == 0 and out == "" and "wrote" in err
    service = tmp_path / "units" / "sheetsync-schedule.service"
    timer = tmp_path / "units" / "sheetsync-schedule.timer"
    assert "ExecStart=" in service.read_text() and " schedule run-due -f schedule.yaml" in service.read_text()
    assert "OnCalendar=*-*-* *:*:00" in timer.read_text()
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(service), str(timer)], capture_output=True, text=True
    )
    problems = [line for line in verify.stderr.splitlines() if "sheetsync-schedule" in line]
    assert verify.returncode == 0 and problems == [], verify.stderr


def test_systemd_prints_both_units_when_no_folder_is_given(capsys) -> None:
    code, out, _ = emit(capsys, "--target", "systemd")
    assert code == 0 and out.count("# ---- sheetsync-schedule.") == 2 and "[Timer]" in out and "Type=oneshot" in out


def test_kubernetes_cronjob_forbids_overlap_and_reads_keys_and_store_from_a_secret(capsys) -> None:
    code, out, err = emit(capsys, "--target", "k8s", "--image", "registry.example.com/sheetsync:1.0")
    assert code == 0
    manifest = yaml.safe_load(out)
    assert (manifest["apiVersion"], manifest["kind"]) == ("batch/v1", "CronJob")
    spec = manifest["spec"]
    assert spec["schedule"] == "* * * * *" and spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == "registry.example.com/sheetsync:1.0"
    assert container["command"][:3] == ["sheetsync", "schedule", "run-due"]
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}
    assert secrets == {"KSS_API_KEY": "sheetsync", "KOTIS_API_KEY": "sheetsync", "SHEETSYNC_DB": "sheetsync"}
    # Google credentials: a file from a Secret volume, named by SHEETSYNC_GOOGLE_CREDENTIALS
    [google] = [e["value"] for e in container["env"] if e["name"] == "SHEETSYNC_GOOGLE_CREDENTIALS"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    [mount] = [m for m in container["volumeMounts"] if google.startswith(m["mountPath"] + "/")]
    assert volumes[mount["name"]]["secret"]["secretName"] == "sheetsync-google"
    assert pod["restartPolicy"] == "Never"
    assert "local file" in err and "postgresql://" in err  # SHEETSYNC_DB here is a SQLite file


def test_github_workflow_runs_run_due_on_a_schedule_with_secrets(capsys, tmp_path: Path) -> None:
    git_repository(tmp_path)
    code, out, err = emit(capsys, "--target", "github")
    assert code == 0
    workflow = yaml.safe_load(out)
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as true
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    job = workflow["jobs"]["run-due"]
    assert job["env"]["SHEETSYNC_DB"] == "${{ secrets.SHEETSYNC_DB }}"
    assert any("sheetsync schedule run-due" in step.get("run", "") for step in job["steps"])
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert "local file" in err
    assert job["env"]["GOOGLE_CREDENTIALS_JSON"] == "${{ secrets.GOOGLE_CREDENTIALS_JSON }}"


def test_github_workflow_hands_google_credentials_to_sheetsync_as_a_private_file(capsys, tmp_path: Path) -> None:
    git_repository(tmp_path)
    code, out, _ = emit(capsys, "--target", "github")
    [run_due] = [s["run"] for s in yaml.safe_load(out)["jobs"]["run-due"]["steps"] if "run-due" in s.get("run", "")]
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "sheetsync"  # stands in for sheetsync: shows what it would be given
    fake.write_text('#!/bin/sh\nstat -c %a "$SHEETSYNC_GOOGLE_CREDENTIALS"; cat "$SHEETSYNC_GOOGLE_CREDENTIALS"\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path), "GITHUB_WORKSPACE": "."}
    done = subprocess.run(
        ["bash", "-c", run_due],
        env={**env, "GOOGLE_CREDENTIALS_JSON": '{"type": "service_account"}'},
        capture_output=True,
        text=True,
    )
    assert code == 0 and done.stdout.splitlines() == ["600", '{"type": "service_account"}'], done.stderr


def test_no_warning_when_the_store_is_postgresql(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETSYNC_DB", "postgresql://sheetsync:secret@db.internal/books")
    code, out, err = emit(capsys, "--target", "k8s", "--image", "registry.example.com/sheetsync:1.0")
    assert code == 0 and "state store" not in err and "secret@" not in out


def test_an_unknown_target_lists_the_valid_ones(capsys) -> None:
    code, out, err = emit(capsys, "--target", "nomad")
    assert code == 2 and out == "" and "cron" in err and "github" in err


STUB = """#!/bin/sh
# a stand-in for {name}: records its arguments and what it was given on stdin
echo "$*" >> "{log}.args"
[ "$1" = "-l" ] && exit 1
cat >> "{log}.stdin"
"""


def readme_recipe_lines() -> list[str]:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run it on a schedule", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.replace("\\\n", " ").splitlines() if "sheetsync schedule emit" in line]


def test_the_readme_recipes_work_as_printed(tmp_path: Path) -> None:
    """Each README line that calls emit, run by bash in a clone holding schedules (crontab and kubectl
    recorded by stand-ins, /srv/books a folder here); then the workflow's steps run as GitHub would."""
    clone = git_repository(tmp_path / "clone")
    write_schedule(clone)
    write_schedule(clone / "books")
    srv = write_schedule(tmp_path / "srv" / "books").parent
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("crontab", "kubectl"):
        (stubs / name).write_text(STUB.format(name=name, log=tmp_path / name))
        (stubs / name).chmod(0o755)
    path = f"{stubs}:{Path(sys.executable).parent}:/usr/bin:/bin"
    lines = readme_recipe_lines()
    assert {"cron", "systemd", "k8s", "github"} <= {line.split("--target ")[1].split()[0] for line in lines}
    for line in lines:
        line = line.replace("/srv/books", str(srv))
        done = subprocess.run(
            ["bash", "-c", line], cwd=clone, env={**ENV, "PATH": path}, capture_output=True, text=True
        )
        assert done.returncode == 0, (line, done.stderr)
        assert str(tmp_path) not in done.stdout.replace(str(srv), "").replace(sys.prefix, ""), line

    [cron] = [x for x in (tmp_path / "crontab.stdin").read_text().splitlines() if x and not x.startswith("#")]
    assert cron.split()[:5] == ["*"] * 5 and f"cd {srv} && " in cron
    assert {p.name for p in (clone / "units").iterdir()} == {"sheetsync-schedule.service", "sheetsync-schedule.timer"}
    manifest = yaml.safe_load((tmp_path / "kubectl.stdin").read_text())
    [container] = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example.com/sheetsync:1.0"
    assert container["command"][-2:] == ["-f", "/config/schedule.yaml"]
    workflow = yaml.safe_load((clone / ".github" / "workflows" / "sheetsync-schedule.yml").read_text())
    run_workflow_steps(workflow, clone, tmp_path)


def run_workflow_steps(workflow: dict[str, Any], checkout: Path, tmp_path: Path) -> None:
    """The workflow's `run` steps in a checkout, as a runner would: the install is checked, not run."""
    steps = [step for step in workflow["jobs"]["run-due"]["steps"] if "run" in step]
    install, run_due = steps
    assert install["run"] == "pip install ." and (checkout / "pyproject.toml").exists()
    folder = checkout / run_due.get("working-directory", ".")
    (folder / "sheetsync.toml").write_text('[kss]\nbase_url = "http://127.0.0.1:9/kss/api/v1"\n')
    env = {**ENV, "GITHUB_WORKSPACE": str(checkout), "SHEETSYNC_DB": str(tmp_path / "ci.sqlite3")}
    env["PATH"] = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    done = subprocess.run(["bash", "-c", run_due["run"]], cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "prices: new in the schedule" in done.stderr, done.stderr
    assert run_due["working-directory"] == "books" and '"$GITHUB_WORKSPACE/books/schedule.yaml"' in run_due["run"]


ENV = {k: v for k, v in os.environ.items() if not k.startswith(("SHEETSYNC_", "KSS_", "KOTIS_"))}


@pytest.mark.parametrize("target", ["cron", "systemd", "k8s", "github"])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs: [\n", r"^error: bad\.yaml:\d+: invalid YAML"),
        (
            "jobs:\n  - name: p\n    report: price-list\n    outputs: x.xlsx\n    cron: '* * *'\n",
            r"^error: bad\.yaml:5: ",
        ),
        (
            "jobs:\n  - name: p\n    report: nope\n    outputs: x.xlsx\n    cron: '* * * * *'\n",
            r"^error: bad\.yaml:3: .*nope",
        ),
        (None, r"^error: cannot read the schedule bad\.yaml"),
    ],
)
def test_a_bad_schedule_file_is_one_line_naming_it_and_nothing_is_emitted(
    capsys, tmp_path: Path, target: str, text: str | None, message: str
) -> None:
    git_repository(tmp_path)
    if text is not None:
        (tmp_path / "bad.yaml").write_text(text)
    (tmp_path / "units").mkdir()
    code, out, err = emit(capsys, "--target", target, "-f", "bad.yaml", "--image", "i:1", "-o", "units")
    assert code == 2 and out == "" and re.match(message, err) and len(err.strip().splitlines()) == 1, err
    assert list((tmp_path / "units").iterdir()) == []


def test_an_output_folder_that_does_not_exist_is_an_error_not_created(capsys, tmp_path: Path) -> None:
    code, out, err = emit(capsys, "--target", "systemd", "-o", str(tmp_path / "no" / "such" / "dir"))
    assert (
        code == 2
        and out == ""
        and err == f"error: -o {tmp_path / 'no' / 'such' / 'dir'}: no such directory (create it first)\n"
    )
    assert not (tmp_path / "no").exists()


def test_github_uses_the_path_from_the_repository_root_whatever_the_folder_emit_runs_in(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repository(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    for argument in ("../books/schedule.yaml", str(tmp_path / "books" / "schedule.yaml")):
        code, out, _ = emit(capsys, "--target", "github", "-f", argument)
        steps = yaml.safe_load(out)["jobs"]["run-due"]["steps"]
        assert code == 0 and str(tmp_path) not in out and "../" not in out
        assert steps[-1]["working-directory"] == "books"
        assert (
            steps[-1]["run"].splitlines()[-1] == 'sheetsync schedule run-due -f "$GITHUB_WORKSPACE/books/schedule.yaml"'
        )
        assert steps[-2]["run"] == "pip install ." and "sheetsync (it is not on PyPI)" in steps[-2]["name"]


def test_github_outside_a_repository_or_in_one_that_is_not_sheetsync_is_refused(capsys, tmp_path: Path) -> None:
    code, out, err = emit(capsys, "--target", "github")
    assert code == 2 and out == "" and "not inside a git repository" in err
    git_repository(tmp_path, sheetsync_project=False)
    code, out, err = emit(capsys, "--target", "github")
    assert code == 2 and out == "" and "--install" in err and "not a sheetsync checkout" in err
    code, out, err = emit(capsys, "--target", "github", "--install", "git+https://git.example.com/acme/sheetsync")
    assert code == 0 and "run: pip install git+https://git.example.com/acme/sheetsync" in out


def test_kubernetes_needs_a_real_image_and_mounts_the_schedule_under_its_own_name(capsys, tmp_path: Path) -> None:
    code, out, err = emit(capsys, "--target", "k8s")
    assert code == 2 and out == "" and "--image" in err and "docker build" in err
    (tmp_path / "books" / "schedule.yaml").rename(tmp_path / "books" / "nightly.yaml")
    code, out, err = emit(capsys, "--target", "k8s", "-f", "books/nightly.yaml", "--image", "reg.example.com/s:1")
    [container] = yaml.safe_load(out)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert code == 0 and container["command"][-1] == "/config/nightly.yaml" and "--from-file=nightly.yaml" in out
    assert "job prices writes out/prices.xlsx" in err  # thrown away with the pod


@pytest.mark.parametrize("target", ["cron", "systemd", "k8s", "github"])
def test_no_recipe_holds_a_secret(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    git_repository(tmp_path)
    monkeypatch.setenv("SHEETSYNC_DB", "postgresql://books:pg-pass-4417@db.internal/books")
    monkeypatch.setenv("KSS_API_KEY", "kss-key-9931")
    monkeypatch.setenv("KOTIS_API_KEY", "kotis-key-5520")
    code, out, err = emit(capsys, "--target", target, "--image", "reg.example.com/s:1")
    assert code == 0 and out
    assert not any(secret in out + err for secret in ("pg-pass-4417", "kss-key-9931", "kotis-key-5520"))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze (Debian package systemd)")
def test_paths_with_spaces_and_percent_signs_survive_cron_and_systemd(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "Books 100% done"
    write_schedule(folder)
    code, out, _ = emit(capsys, "--target", "cron", "-f", str(folder / "schedule.yaml"))
    [line] = [x for x in out.splitlines() if not x.startswith("#")]
    assert code == 0 and "'" + str(folder).replace("%", "\\%") + "'" in line  # quoted; cron reads % as a newline
    (tmp_path / "units").mkdir()
    code, _, _ = emit(
        capsys, "--target", "systemd", "-f", str(folder / "schedule.yaml"), "-o", "units", "--workdir", str(folder)
    )
    service = (tmp_path / "units" / "sheetsync-schedule.service").read_text()
    assert f'"{folder / "schedule.yaml"}"'.replace("%", "%%") in service
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / "units" / "sheetsync-schedule.service")],
        capture_output=True,
        text=True,
    )
    assert [x for x in verify.stderr.splitlines() if "sheetsync-schedule" in x] == [], verify.stderr
