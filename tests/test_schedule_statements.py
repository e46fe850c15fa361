"""`statements:` jobs: the scheduler builds the statements and e-mails each one once, with its locks,
history and alerts (a local SMTP server receives them; LibreOffice prints the PDFs)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_lo import soffice
from local_servers import SmtpServer, smtp_server, webhook_receiver

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.sandbox.server import SandboxOptions, start_sandbox
from sheetsync.schedule.spec import parse_schedule
from sheetsync.schedule.statements_task import SEND_LOCK
from sheetsync.schedule.tasks import task_for

needs_libreoffice = pytest.mark.skipif(
    soffice() is None and not os.environ.get("CI"), reason="LibreOffice (soffice) is not installed; CI installs it"
)

SCHEDULE = """\
timezone: America/New_York
jobs:
  - name: statements-monthly
    statements:
      pdf: out/statements
      recipients: billing.csv
      bcc: ar-box@example.com
      apply: true
    params: {customer_ids: [1, 2, 3]}
    cron: "0 7 1 * *"
    profile: sandbox
    alerts: {on: [failure, partial], webhook: WEBHOOK}
"""
ADDRESSES = [("1", "ap@leaf.example", ""), ("2", "ap@pine.example", "owner@pine.example"), ("3", "ap@door.example", "")]


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A folder with a schedule, a billing map, sheetsync.toml on the sandbox, a state store and a mail server."""
    with (
        start_sandbox(options=SandboxOptions()) as sandbox,
        smtp_server(tmp_path) as smtp,
        webhook_receiver() as hook,
    ):
        monkeypatch.chdir(tmp_path)
        (tmp_path / "out").mkdir()
        (tmp_path / "schedule.yaml").write_text(SCHEDULE.replace("WEBHOOK", hook.url))
        write_map(tmp_path / "billing.csv", ADDRESSES)
        (tmp_path / "sheetsync.toml").write_text(
            f'[profiles.sandbox.kss]\nbase_url = "{sandbox.info.kss}"\napi_key = "{sandbox.info.keys["employee"]}"\n'
        )
        for name, value in {
            "SHEETSYNC_SMTP_HOST": smtp.host,
            "SHEETSYNC_SMTP_PORT": str(smtp.port),
            "SHEETSYNC_SMTP_SECURITY": "none",
            "SHEETSYNC_SMTP_FROM": "ar@example.com",
            "SHEETSYNC_DB": str(tmp_path / "state.sqlite3"),
            "SHEETSYNC_COMPANY_NAME": "Example Distribution Co.",  # statements need a sender and remit-to
            "SHEETSYNC_COMPANY_REMIT_TO": "PO Box 1000, Oakland, CA 94604",
        }.items():
            monkeypatch.setenv(name, value)
        sandbox.smtp, sandbox.hook, sandbox.dir = smtp, hook, tmp_path
        yield sandbox


def write_map(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("CustomerID", "To", "Cc"), *rows])


def sheetsync(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = run_safely(cli, list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_job(capsys: Any) -> dict[str, Any]:
    code, out, err = sheetsync(capsys, "schedule", "run", "statements-monthly", "--json")
    [run] = json.loads(out)
    assert code == (run["exit_code"] or 0), err
    return dict(run)


@needs_libreoffice
def test_a_statements_job_sends_each_statement_once_across_runs(books, capsys) -> None:
    smtp: SmtpServer = books.smtp
    first = run_job(capsys)
    assert first["outcome"] == "ok" and first["exit_code"] == 0, first
    assert first["rows"] == {"statements/built": 3, "statements/sent": 3}
    manifest = json.loads((books.dir / "out" / "statements" / "statements.json").read_text())["statements"]
    assert sorted(first["outputs"]) == sorted(f"out/statements/{s['file']}" for s in manifest)  # beside the schedule
    assert sorted(m["To"] for m in smtp.messages) == ["ap@door.example", "ap@leaf.example", "ap@pine.example"]
    for message in smtp.messages:
        [entry] = [s for s in manifest if s["customer"] in message["Subject"]]
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content() == (books.dir / "out" / "statements" / entry["file"]).read_bytes()
    assert all("ar-box@example.com" in envelope for envelope in smtp.handler.recipients)
    assert first["requests"]["kss"] > 0

    again = run_job(capsys)  # a catch-up or a manual re-run: the send log says they went
    assert again["outcome"] == "unchanged" and again["exit_code"] == 0
    assert again["rows"] == {"statements/built": 3, "statements/already sent": 3}
    assert len(smtp.messages) == 3
    _, out, _ = sheetsync(capsys, "schedule", "history", "statements-monthly", "--json")
    assert [r["outcome"] for r in json.loads(out)] == ["unchanged", "ok"] and books.hook.posts == []
    assert first["bytes_written"] == sum((books.dir / path).stat().st_size for path in first["outputs"])
    _, out, _ = sheetsync(capsys, "schedule", "history", "statements-monthly")
    assert "built=3 already-sent=3 kss=" in out.splitlines()[0] and "built=3 sent=3 kss=" in out.splitlines()[1]


@needs_libreoffice
def test_a_customer_without_address_makes_the_run_partial_and_alerts(books, capsys) -> None:
    write_map(books.dir / "billing.csv", ADDRESSES[:2])
    run = run_job(capsys)
    assert run["outcome"] == "partial" and run["exit_code"] == 1
    assert run["rows"] == {"statements/built": 3, "statements/sent": 2, "statements/no address": 1}
    [warning] = run["warnings"]
    assert (
        warning["code"] == "statement_not_sent"
        and warning["subject"] == "3"
        and "no e-mail address" in warning["message"]
    )
    assert len(books.smtp.messages) == 2
    [alert] = books.hook.posts
    assert alert["sheetsync"]["event"] == "partial" and alert["sheetsync"]["run"]["outcome"] == "partial"

    write_map(books.dir / "billing.csv", ADDRESSES)  # the address is added: the next run sends only that one
    run = run_job(capsys)
    assert (
        run["outcome"] == "ok" and run["rows"]["statements/sent"] == 1 and run["rows"]["statements/already sent"] == 2
    )
    assert [m["To"] for m in books.smtp.messages[2:]] == ["ap@door.example"]


@needs_libreoffice
def test_without_apply_the_run_records_the_plan_and_sends_nothing(books, capsys) -> None:
    text = (books.dir / "schedule.yaml").read_text().replace("      apply: true\n", "")
    (books.dir / "schedule.yaml").write_text(text)
    run = run_job(capsys)
    assert run["outcome"] == "ok" and run["rows"] == {"statements/built": 3, "statements/planned": 3}
    assert books.smtp.messages == []


def test_statements_jobs_are_checked_before_anything_runs(books, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = books.dir / "schedule.yaml"
    good = schedule.read_text()
    cases = [
        (
            good.replace("billing.csv", "nowhere.csv"),
            r"schedule.yaml:4: job statements-monthly: recipients nowhere.csv",
        ),
        (
            good.replace("pdf: out/statements", "pdf: gone/away/pdfs"),
            r"schedule.yaml:4: job statements-monthly: pdf gone",
        ),
        (good.replace("[1, 2, 3]", "[1, x]"), r"schedule.yaml:9: job statements-monthly: "),
        (
            good.replace("ar-box@example.com", "ar-box"),
            r"schedule.yaml:4: job statements-monthly: bcc: 'ar-box' is not",
        ),
    ]
    for text, message in cases:
        schedule.write_text(text)
        code, out, err = sheetsync(capsys, "schedule", "check")
        assert code == 2 and out == "" and err.startswith(f"error: {message}"), (message, err)
    schedule.write_text(good)
    monkeypatch.delenv("SHEETSYNC_SMTP_HOST")
    code, _, err = sheetsync(capsys, "schedule", "check")
    assert code == 2 and "job statements-monthly: no mail server" in err
    assert books.smtp.messages == [] and not (books.dir / "out" / "statements").exists()


def test_every_sending_statements_job_holds_the_one_send_lock(tmp_path: Path) -> None:
    text = """\
jobs:
  - {name: a, statements: {pdf: a, recipients: m.csv, apply: true}, cron: "0 7 1 * *"}
  - {name: b, statements: {pdf: b, recipients_from_api: true, apply: true}, cron: "0 8 1 * *"}
  - {name: c, statements: {pdf: c, send: false}, cron: "0 9 1 * *"}
"""
    schedule = parse_schedule(text, str(tmp_path / "schedule.yaml"), check_tasks=False)
    locks = {job.name: task_for(job).output_locks() for job in schedule.jobs}
    assert locks == {
        "a": [f"output:{tmp_path / 'a'}", SEND_LOCK],  # two runs never plan the same statement at once
        "b": [f"output:{tmp_path / 'b'}", SEND_LOCK],
        "c": [f"output:{tmp_path / 'c'}"],
    }


@needs_libreoffice
def test_run_due_sends_the_monthly_statements_at_their_slot_once(books) -> None:
    from datetime import UTC, datetime

    from test_schedule_runner import Clock

    from sheetsync.schedule.history import MemoryState
    from sheetsync.schedule.runner import Scheduler
    from sheetsync.schedule.spec import load_schedule

    clock = Clock(datetime(2026, 5, 31, 12, 0, tzinfo=UTC))
    scheduler = Scheduler(load_schedule("schedule.yaml"), MemoryState(clock), clock=clock)
    assert scheduler.run_due() == []  # seen: due from its next slot, 07:00 New York on June 1st
    clock.tick(hours=22, minutes=59)
    assert scheduler.run_due() == [] and books.smtp.messages == []
    clock.tick(minutes=2)
    [run] = scheduler.run_due()
    assert (run.trigger, run.outcome, run.slot) == ("schedule", "ok", datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
    assert len(books.smtp.messages) == 3
    clock.tick(hours=1)
    assert scheduler.run_due() == [] and len(books.smtp.messages) == 3
    assert [r.outcome for r in scheduler.state.runs("statements-monthly")] == ["ok"]
    assert run.rows == {"statements/built": 3, "statements/sent": 3}


HOLD_SEND_LOCK = """
import sys, time
from datetime import timedelta
from sheetsync.store import open_store
with open_store(sys.argv[1]).lock("statements:send", ttl=timedelta(hours=1)):
    print("holding", flush=True)
    time.sleep(120)
"""


@needs_libreoffice
def test_a_manual_send_and_a_scheduled_one_never_plan_at_once(books, capsys) -> None:
    import subprocess
    import sys

    schedule = books.dir / "schedule.yaml"
    schedule.write_text(schedule.read_text().replace("      apply: true\n", ""))
    assert run_job(capsys)["rows"]["statements/planned"] == 3  # built, nothing sent
    schedule.write_text(schedule.read_text().replace("      bcc:", "      apply: true\n      bcc:"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SEND_LOCK, str(books.dir / "state.sqlite3")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        run = run_job(capsys)  # a manual `statements send --apply` is sending: the job waits its turn
        assert run["outcome"] == "skipped" and "statements:send" in run["reason"]
        code, out, err = sheetsync(
            capsys, "statements", "send", "--pdf", "out/statements", "--recipients", "billing.csv", "--apply"
        )
        assert code != 0 and "statements:send" in err and len(err.strip().splitlines()) == 1, err
    finally:
        holder.kill()
        holder.wait(10)
    assert books.smtp.messages == []
    code, out, err = sheetsync(capsys, "statements", "send", "--pdf", "out/statements", "--recipients", "billing.csv")
    assert code == 0 and "Nothing was sent" in out  # a plan only needs no lock
