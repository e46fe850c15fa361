"""Failures are one line: each bad input or broken environment gives one `error:` line naming what and where,
the exit code of the README table, no traceback, and leaves the target file byte for byte as it was.

Every case runs the real `sheetsync` process (so retries, logging and interpreter shutdown messages are
what a user sees)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sheetsync.errors import ExitCode

PREVIOUS = b"the user's previous workbook bytes"
MAIN = "from sheetsync.cli import main; main()"


@dataclass
class Case:
    id: str
    args: list[str]
    code: int
    message: str  # a regex the error line must match
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # written into the working directory first
    retry_lines: int = 0  # at most this many short "retry n/m" lines before the error
    seconds: float | None = None  # must fail within this long (a name that does not resolve fails at once)


NO_HOST = {"KSS_API_KEY": "k", "KSS_BASE_URL": "http://127.0.0.1:9/api"}
NO_NAME = {"KSS_API_KEY": "k", "KSS_BASE_URL": "http://no-such-host.invalid/api"}
PRICES = ["run", "price-list", "-p", "customer_ids=1", "-o", "target.xlsx"]
SANDBOX_PRICES = [*PRICES, "--sandbox"]
LATIN1 = b"name: x\ntitle: caf\xe9\nsources: {c: {endpoint: customers}}\ntabs: [{id: t, columns: [CustomerName]}]\n"
MAYBE = b"""name: x
title: x
params:
  a: {type: int, required: maybe}
sources: {c: {endpoint: customers}}
tabs: [{id: t, columns: [CustomerName]}]
"""
LIMIT = b"""name: x
title: x
params:
  a: {type: int_list}
demo:
  a: {endpoint: customers, field: CustomerID, limit: three}
sources: {c: {endpoint: customers, params: {CustomerIDs: "{{ params.a }}"}}}
tabs: [{id: t, columns: [CustomerName]}]
"""

CASES = [
    Case("unreachable host", ["fetch", "customers"], ExitCode.API,
         r"GET customers: could not reach 127\.0\.0\.1:9 \(connection refused\)", NO_HOST, retry_lines=4),
    # five queries run concurrently: at most four short retry lines each, then one error line
    Case("unreachable host, a report", PRICES, ExitCode.API, r"could not reach 127\.0\.0\.1:9 \(connection refused\)",
         NO_HOST, retry_lines=20),
    Case("name does not resolve", PRICES, ExitCode.API, r"could not reach no-such-host\.invalid \(the host name does "
         r"not resolve\)", NO_NAME, seconds=5),
    Case("-o in /proc", [*SANDBOX_PRICES[:-3], "--sandbox", "-o", "/proc/x.xlsx"], ExitCode.USAGE,
         r"output /proc/x\.xlsx: cannot create a file in /proc"),
    Case("-o ''", [*SANDBOX_PRICES[:-3], "--sandbox", "-o", ""], ExitCode.USAGE, r"output '' is empty"),
    Case("demo --out ''", ["demo", "--out", ""], ExitCode.USAGE, r"output '' is empty"),
    Case("NaN parameter", ["run", "reorder", "--sandbox", "-p", "doi_alert=NaN", "-o", "target.xlsx"],
         ExitCode.USAGE, r"parameter doi_alert expects a finite number.*got 'NaN'"),
    Case("Infinity parameter", ["run", "reorder", "--sandbox", "-p", "doi_alert=Infinity", "-o", "target.xlsx"],
         ExitCode.USAGE, r"parameter doi_alert expects a finite number.*got 'Infinity'"),
    Case("1e999999 parameter", ["run", "reorder", "--sandbox", "-p", "doi_alert=1e999999", "-o", "target.xlsx"],
         ExitCode.USAGE, r"parameter doi_alert expects a finite number.*got '1e999999'"),
    Case("1e999999 query parameter", ["fetch", "customers", "--sandbox", "-p", "CustomerIDs=1e999999"],
         ExitCode.USAGE, r"parameter CustomerIDs expects a number"),
    Case("non-UTF-8 definition", ["run", "latin1.yaml", "--sandbox", "-o", "target.xlsx"], ExitCode.USAGE,
         r"latin1\.yaml:2: is not UTF-8 text \(byte 0xe9\)", files={"latin1.yaml": LATIN1}),
    Case("required: maybe", ["reports", "check", "maybe.yaml"], ExitCode.USAGE, r"maybe\.yaml:4: required",
         files={"maybe.yaml": MAYBE}),
    Case("limit: three in demo", ["reports", "check", "limit.yaml"], ExitCode.USAGE, r"limit\.yaml:6: limit",
         files={"limit.yaml": LIMIT}),
    Case("cache dir is a file", PRICES, ExitCode.USAGE, r"cache directory .*afile is a file, not a directory",
         {**NO_HOST, "SHEETSYNC_CACHE_DIR": "afile"}, files={"afile": b"x"}),
    Case("key with a space inside", PRICES, ExitCode.USAGE, r"kss_api_key from env KSS_API_KEY has a space",
         {**NO_HOST, "KSS_API_KEY": "abc def"}),
]  # fmt: skip


def sheetsync(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_one_line_exit_code_and_the_target_untouched(case: Case, tmp_path: Path) -> None:
    (tmp_path / "target.xlsx").write_bytes(PREVIOUS)
    for name, data in case.files.items():
        (tmp_path / name).write_bytes(data)
    started = time.monotonic()
    result = sheetsync(case.args, tmp_path, case.env)
    elapsed = time.monotonic() - started
    lines = result.stderr.splitlines()
    assert result.returncode == case.code, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    *retries, last = lines
    assert len(retries) <= case.retry_lines, result.stderr
    assert all(re.match(r"retry \d/\d: ", r) and len(r) < 120 for r in retries), retries
    assert last.startswith("error: ") and re.search(case.message, last), last
    assert len(last) < 300, last
    assert (tmp_path / "target.xlsx").read_bytes() == PREVIOUS
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".target.xlsx")]  # no temporary left
    if case.seconds is not None:
        assert elapsed < case.seconds, elapsed


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_sandbox_serve_on_a_busy_port(busy_port: int, tmp_path: Path) -> None:
    result = sheetsync(["sandbox", "serve", "--port", str(busy_port)], tmp_path, {}, timeout=30)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.splitlines() == [
        f"error: sandbox: port {busy_port} on 127.0.0.1 is in use by another program; choose another --port, "
        "or 0 for a free one"
    ]


def test_a_key_with_a_trailing_newline_works(sandbox, tmp_path: Path) -> None:
    env = {"KSS_API_KEY": sandbox.info.keys["employee"] + "\n", "KSS_BASE_URL": sandbox.info.kss}
    result = sheetsync(["fetch", "customers", "--limit", "1", "--format", "csv"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("CustomerID,")


def test_an_interrupt_exits_130_in_one_line(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", MAIN, "sandbox", "serve"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # a shell's background job (CI scripts, `cmd &`) starts with SIGINT ignored; a user's terminal does not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None and process.stdout.readline().startswith(b"{")  # serving
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == ExitCode.INTERRUPTED == 130
    assert err.decode().splitlines() == ["Interrupted."]


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 32 KB tmpfs (needs root and mount rights, as in CI's container; skipped elsewhere)."""
    mount_point = tmp_path / "full"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_full_disk_is_one_line_and_keeps_the_previous_file(full_disk: Path, tmp_path: Path) -> None:
    import openpyxl

    target = full_disk / "reorder.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "the user's own sheet"
    book.save(target)
    previous = target.read_bytes()
    result = sheetsync(["run", "reorder", "--sandbox", "-o", str(target)], tmp_path, {})
    assert result.returncode == ExitCode.USAGE
    assert result.stderr.splitlines() == [f"error: cannot write {target}: No space left on device"]
    assert target.read_bytes() == previous and [p.name for p in full_disk.iterdir()] == ["reorder.xlsx"]
