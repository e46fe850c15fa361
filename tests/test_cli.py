"""The command line as a user meets it: help with examples everywhere, one-line errors, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from sheetsync import __version__
from sheetsync.cli import cli


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, path))
    return found


@pytest.mark.parametrize("path", _all_commands(cli), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"sheetsync {' '.join(path)} --help has no example"


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_errors_are_one_line_with_a_usage_exit_code(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from sheetsync.cli import main; main()", "config", "show"],
        capture_output=True,
        text=True,
        env={"KSS_ENV": "nowhere", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("error: KSS_ENV / kss_env is 'nowhere'")
    assert "Traceback" not in proc.stderr


def test_unknown_command_is_a_usage_error(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from sheetsync.cli import main; main()", "frobnicate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "No such command 'frobnicate'" in proc.stderr


@pytest.mark.parametrize("out", ["/proc/sheetsync-cannot-create", "{tmp}/file.txt/sub"])
def test_demo_into_an_impossible_directory_is_one_line_and_exit_2(tmp_path, out: str) -> None:
    (tmp_path / "file.txt").write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-c", "from sheetsync.cli import main; main()", "demo", "--out", out.format(tmp=tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: output ") and proc.stderr.count("\n") == 1


def test_fetch_reaches_the_kotis_gets(capsys) -> None:
    from sheetsync.cli.common import run_safely

    code = run_safely(
        cli,
        [
            "fetch",
            "kotis/orders/by_source",
            "--sandbox",
            "-p",
            "source=all",
            "-p",
            "start_date=2025-10-01",
            "-p",
            "end_date=2026-02-28",
            "--format",
            "json",
        ],
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    import json

    orders = json.loads(out)
    assert orders and {"order_number", "status", "source"} <= set(orders[0])
    assert "3 requests" in err  # 151 days split into non-overlapping windows of at most 60 days
    code = run_safely(
        cli,
        [
            "fetch",
            "kotis/orders/status",
            "--sandbox",
            "-p",
            f"order_numbers={orders[0]['order_number']}",
            "--format",
            "json",
        ],
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)[0]["order_number"] == orders[0]["order_number"]
    assert run_safely(cli, ["fetch", "kotis/orders/by_source", "--sandbox", "-p", "source=all"]) == 2
    assert "start_date is required" in capsys.readouterr().err


def test_a_reader_that_stops_early_is_not_an_internal_error(tmp_path) -> None:
    """`sheetsync schedule history | head -1`: the pipe closes under us; quiet, no traceback, exit 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, as after `head` exits
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "from sheetsync.cli import main; main()", "reports", "schema"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1
    assert proc.stderr == ""
