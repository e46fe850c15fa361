"""`sheetsync schedule emit`: each recipe parses as its scheduler reads it and calls run-due."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely


def emit(capsys, *args: str) -> tuple[int, str, str]:
    code = run_safely(cli, ["schedule", "emit", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETSYNC_DB", str(tmp_path / "state.sqlite3"))
    monkeypatch.chdir(tmp_path)


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
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]}
    assert secrets == {"KSS_API_KEY": "sheetsync", "KOTIS_API_KEY": "sheetsync", "SHEETSYNC_DB": "sheetsync"}
    assert pod["restartPolicy"] == "Never"
    assert "local file" in err and "postgresql://" in err  # SHEETSYNC_DB here is a SQLite file


def test_github_workflow_runs_run_due_on_a_schedule_with_secrets(capsys) -> None:
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


def test_no_warning_when_the_store_is_postgresql(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETSYNC_DB", "postgresql://sheetsync:secret@db.internal/books")
    code, out, err = emit(capsys, "--target", "k8s")
    assert code == 0 and err == "" and "secret@" not in out


def test_an_unknown_target_lists_the_valid_ones(capsys) -> None:
    code, out, err = emit(capsys, "--target", "nomad")
    assert code == 2 and out == "" and "cron" in err and "github" in err


def test_every_emit_command_of_the_readme_runs(capsys, tmp_path: Path) -> None:
    import re
    import shlex

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"sheetsync schedule emit ([^|>)\n]+)", readme)
    assert {"cron", "systemd", "k8s", "github"} <= {shlex.split(c)[1] for c in commands}
    for command in commands:
        args = [str(tmp_path / "units") if a == "/etc/systemd/system" else a for a in shlex.split(command)]
        code, out, err = emit(capsys, *args)
        assert code == 0 and (out or "wrote" in err), (command, err)
        assert "run-due" in (out or (tmp_path / "units" / "sheetsync-schedule.service").read_text())
