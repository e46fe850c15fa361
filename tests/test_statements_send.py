"""statements send against a real local SMTP server (aiosmtpd), on a folder of built statements.

The PDFs here are small stand-ins with a manifest (what `statements build` writes), so these tests
need no LibreOffice; test_statements.py prints real ones. What counts is what the server received.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from local_servers import SmtpServer, free_port, smtp_server

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.errors import ConfigError, DeliveryError, ExitCode
from sheetsync.store import open_store

DATE = "2026-03-01"
CUSTOMERS = {1: "Green Leaf Dispensary", 2: "Pine Cannabis", 3: "Green Door Dispensary"}
REFUSED = "nobody@pine.example"


@dataclass
class Outcome:
    exit_code: int
    output: str


def invoke(*args: str, env: dict[str, str]) -> Outcome:
    out = io.StringIO()
    with mock.patch.dict(os.environ, env), redirect_stdout(out), redirect_stderr(out):
        code = run_safely(cli, list(args))
    return Outcome(code, out.getvalue())


@pytest.fixture
def pdfs(tmp_path: Path) -> Path:
    """A folder as `statements build` leaves it: one PDF per customer and statements.json."""
    folder = tmp_path / "out"
    folder.mkdir()
    entries = []
    for customer, name in CUSTOMERS.items():
        file = f"{name.replace(' ', '-')}-{customer}-{DATE}.pdf"
        content = f"%PDF-1.7 statement of {name}\n".encode()
        (folder / file).write_bytes(content)
        entries.append(
            {
                "customer_id": customer,
                "customer": name,
                "statement_date": DATE,
                "amount_due": f"{customer * 1000}.50",
                "file": file,
                "sha256": hashlib.sha256(content).hexdigest(),
                "company": "Example Distribution Co.",
            }
        )
    (folder / "statements.json").write_text(json.dumps({"statements": entries}))
    return folder


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path, refuse=frozenset({REFUSED})) as server:
        yield server


def mail_env(port: int, db: str, **extra: str) -> dict[str, str]:
    return {
        "SHEETSYNC_SMTP_HOST": "127.0.0.1",
        "SHEETSYNC_SMTP_PORT": str(port),
        "SHEETSYNC_SMTP_SECURITY": "none",
        "SHEETSYNC_SMTP_FROM": "ar@example.com",
        "SHEETSYNC_DB": db,
        **extra,
    }


def recipients(tmp_path: Path, rows: list[tuple[Any, ...]], name: str = "map.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("CustomerID", "To", "Cc"), *rows])
    return path


ADDRESSES = [(1, "ap@leaf.example", ""), (2, "ap@pine.example", "owner@pine.example"), (3, "ap@door.example", "")]


def send(pdfs: Path, mapping: Path, env: dict[str, str], *extra: str) -> Outcome:
    return invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), *extra, env=env)


def record(db: str, customer: int) -> Any:
    store = open_store(db)
    try:
        return store.get("statements.sent", f"{customer}|{DATE}")
    finally:
        store.close()


# ---- partly refused: the user knows exactly who did not get it --------------------------------------


def test_a_message_refused_for_one_recipient_is_partly_sent_naming_who_did_not_get_it(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "state.sqlite3")
    env = mail_env(smtp.port, db)
    mapping = recipients(tmp_path, [ADDRESSES[0], (2, "ap@pine.example", REFUSED), ADDRESSES[2]])
    first = send(pdfs, mapping, env, "--bcc", "box@example.com", "--apply")
    assert first.exit_code == ExitCode.PARTIAL, first.output
    assert len(smtp.messages) == 3
    assert smtp.handler.recipients[1] == ["ap@pine.example", "box@example.com"]
    assert f"Pine Cannabis (2): partly sent: NOT to {REFUSED} (550" in first.output
    pine = record(db, 2)
    assert pine.state == "partial" and list(pine.data["refused"]) == [REFUSED]
    assert pine.data["delivered_to"] == ["ap@pine.example", "box@example.com"]

    smtp.handler.refuse = frozenset()  # the mailbox exists now: the next run sends to it only
    retry = send(pdfs, mapping, env, "--bcc", "box@example.com", "--apply")
    assert retry.exit_code == 0, retry.output
    assert f"retry       Pine Cannabis (2) {DATE} $2,000.50" in retry.output and f"-> {REFUSED} only" in retry.output
    assert len(smtp.messages) == 4 and smtp.handler.recipients[3] == [REFUSED]
    assert (smtp.messages[3]["To"], smtp.messages[3]["Cc"]) == ("ap@pine.example", REFUSED)
    assert record(db, 2).state == "sent"

    again = send(pdfs, mapping, env, "--bcc", "box@example.com", "--apply")
    assert again.exit_code == 0 and len(smtp.messages) == 4, again.output
    assert f"already sent Pine Cannabis (2) {DATE}" in again.output and REFUSED in again.output


def test_a_refused_address_removed_from_the_recipients_leaves_the_statement_sent(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "state.sqlite3")
    env = mail_env(smtp.port, db)
    send(pdfs, recipients(tmp_path, [(2, "ap@pine.example", REFUSED)]), env, "--apply")
    fixed = send(pdfs, recipients(tmp_path, [(2, "ap@pine.example", "")]), env, "--apply")
    assert len(smtp.messages) == 1, fixed.output
    assert "already sent Pine Cannabis (2)" in fixed.output


def test_a_customer_name_with_line_breaks_stays_one_subject_line(pdfs: Path, smtp: SmtpServer, tmp_path: Path) -> None:
    manifest = json.loads((pdfs / "statements.json").read_text())
    manifest["statements"][1]["customer"] = "Pine Cannabis\r\nBcc: evil@attacker.example"
    (pdfs / "statements.json").write_text(json.dumps(manifest))
    result = send(pdfs, recipients(tmp_path, ADDRESSES), mail_env(smtp.port, str(tmp_path / "s.sqlite3")), "--apply")
    assert result.exit_code == 0, result.output
    pine = next(m for m in smtp.messages if m["To"] == "ap@pine.example")
    assert pine["Subject"] == f"Statement of account {DATE}: Pine Cannabis Bcc: evil@attacker.example (account 2)"
    assert "evil@attacker.example" not in str(smtp.handler.recipients) and pine["Bcc"] is None


# ---- the mail server fails: classified exactly, and the run stops ------------------------------------


def test_a_refused_login_stops_the_run_after_one_attempt_and_never_shows_the_password(
    pdfs: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "state.sqlite3")
    with smtp_server(tmp_path, login=("bot", "right")) as server:
        env = mail_env(server.port, db, SHEETSYNC_SMTP_USERNAME="bot", SHEETSYNC_SMTP_PASSWORD="wr0ng-s3cret")
        result = send(pdfs, recipients(tmp_path, ADDRESSES), env, "--apply")
        assert server.logins == ["bot:refused"] * 2  # one message: smtplib tries PLAIN, then LOGIN
        assert server.messages == []
    assert result.exit_code == ExitCode.PARTIAL, result.output
    assert "login as bot refused (535)" in result.output
    assert result.output.count("failed: not tried, mail via 127.0.0.1") == 2
    assert "wr0ng-s3cret" not in result.output
    states = [getattr(record(db, c), "state", None) for c in CUSTOMERS]
    assert states.count("failed") == 1 and states.count(None) == 2  # the untried ones go out next run


def test_a_server_that_is_down_is_one_attempt_and_nothing_recorded_as_unknown(pdfs: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite3")
    result = send(pdfs, recipients(tmp_path, ADDRESSES), mail_env(free_port(), db), "--apply")
    assert result.exit_code == ExitCode.PARTIAL, result.output
    assert result.output.count("Connection refused") == 3  # once as the failure, twice as why not tried
    assert "unknown" not in result.output.lower()


def test_a_password_is_never_sent_in_clear_text_over_the_network() -> None:
    from sheetsync.config import load_settings
    from sheetsync.mailer import SmtpSettings

    env = {"SHEETSYNC_SMTP_HOST": "mail.example.com", "SHEETSYNC_SMTP_SECURITY": "none"}
    secret = {"SHEETSYNC_SMTP_USERNAME": "bot", "SHEETSYNC_SMTP_PASSWORD": "pw"}
    clear = r"password would cross the network to mail\.example\.com in clear text"
    with mock.patch.dict(os.environ, {**env, **secret}), pytest.raises(ConfigError, match=clear):
        SmtpSettings.from_settings(load_settings())
    with mock.patch.dict(os.environ, {**env, "SHEETSYNC_SMTP_HOST": "127.0.0.1", "SHEETSYNC_SMTP_USERNAME": "bot"}):
        assert SmtpSettings.from_settings(load_settings()).username == "bot"  # a relay on this machine


class _Breaking:
    """An SMTP server that drops the connection at one step of the transaction (and records DATA)."""

    def __init__(self, at: str) -> None:
        self.at = at
        self.received: list[bytes] = []

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.at == "MAIL":
            server.transport.close()
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content)
        if self.at == "DATA":
            server.transport.close()
        return "250 OK"


@contextmanager
def breaking_server(at: str) -> Iterator[tuple[int, _Breaking]]:
    handler, port = _Breaking(at), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.mark.parametrize(("at", "delivered"), [("MAIL", False), ("DATA", None)])
def test_a_connection_lost_before_the_data_surely_sent_nothing_and_after_it_may_have(
    at: str, delivered: bool | None
) -> None:
    from sheetsync.mailer import Mail, SmtpSettings, deliver

    with breaking_server(at) as (port, handler):
        settings = SmtpSettings("127.0.0.1", port, security="none", sender="ar@example.com", timeout=5)
        with pytest.raises(DeliveryError) as failure:
            deliver(settings, Mail(to=["ap@leaf.example"], subject="s", body="b"))
    assert failure.value.delivered is delivered
    assert len(handler.received) == (1 if at == "DATA" else 0)


def test_every_message_has_a_date_and_one_envelope_entry_per_address(smtp: SmtpServer) -> None:
    from sheetsync.mailer import Mail, SmtpSettings, deliver

    settings = SmtpSettings(smtp.host, smtp.port, security="none", sender="Example AR <ar@example.com>")
    mail = Mail(to=["ap@pine.example"], cc=["AP@pine.example", "boss@pine.example"], subject="s", body="b")
    delivery = deliver(settings, mail)
    [message] = smtp.messages
    assert message["Date"] and delivery.message_id.endswith("@example.com>")
    assert smtp.handler.recipients == [["ap@pine.example", "boss@pine.example"]]


# ---- never twice, across processes --------------------------------------------------------------------


def test_an_unknown_send_left_by_an_earlier_run_makes_every_run_exit_unknown(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "state.sqlite3")
    store = open_store(db)
    store.put("statements.sent", f"1|{DATE}", "sending", {"to": ["ap@leaf.example"]})
    store.close()
    result = send(pdfs, recipients(tmp_path, ADDRESSES), mail_env(smtp.port, db), "--apply")
    assert result.exit_code == ExitCode.UNKNOWN_OUTCOME, result.output
    assert sorted(m["To"] for m in smtp.messages) == ["ap@door.example", "ap@pine.example"]


@pytest.mark.parametrize(("found", "sent_next_run"), [("--arrived", 0), ("--not-arrived", 1)])
def test_an_unknown_send_is_settled_by_what_a_person_found(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path, found: str, sent_next_run: int
) -> None:
    db = str(tmp_path / "state.sqlite3")
    store = open_store(db)
    store.put("statements.sent", f"1|{DATE}", "sending", {"to": ["ap@leaf.example"], "envelope": ["ap@leaf.example"]})
    store.close()
    env = mail_env(smtp.port, db)
    settled = invoke("statements", "resolve", "--pdf", str(pdfs), "1", found, env=env)
    assert settled.exit_code == 0, settled.output
    rerun = send(pdfs, recipients(tmp_path, ADDRESSES), env, "--apply")
    assert rerun.exit_code == 0, rerun.output
    assert [m["To"] for m in smtp.messages].count("ap@leaf.example") == sent_next_run
    again = invoke("statements", "resolve", "--pdf", str(pdfs), "1", "--arrived", env=env)
    assert again.exit_code == ExitCode.USAGE and "is sent, not unknown: nothing to resolve" in again.output


def test_a_second_send_while_one_runs_is_refused_before_it_sends(pdfs: Path, smtp: SmtpServer, tmp_path: Path) -> None:
    from sheetsync.statements.send import SEND_LOCK

    db = str(tmp_path / "state.sqlite3")
    holder = open_store(db)
    try:
        with holder.lock(SEND_LOCK):
            result = send(pdfs, recipients(tmp_path, ADDRESSES), mail_env(smtp.port, db), "--apply")
    finally:
        holder.close()
    assert result.exit_code != 0 and "statements:send" in result.output, result.output
    assert smtp.messages == []


class _Stalling:
    """Takes every message, but stalls in DATA for the first one until released (the sender dies there)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.in_data = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        self.in_data.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def test_a_send_killed_in_the_smtp_transaction_is_unknown_and_nothing_goes_twice(pdfs: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite3")
    handler, port = _Stalling(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mapping = recipients(tmp_path, ADDRESSES)
        env = {**os.environ, **mail_env(port, db)}
        command = [
            sys.executable,
            "-c",
            "from sheetsync.cli import main; main()",
            "statements",
            "send",
            "--pdf",
            str(pdfs),
        ]
        command += ["--recipients", str(mapping), "--apply"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=default_sigint
        )
        try:
            assert handler.in_data.wait(60), "the send never reached DATA"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        handler.release.set()  # the message of the killed process arrives after all
        rerun = send(pdfs, mapping, mail_env(port, db), "--apply")
        assert rerun.exit_code == ExitCode.UNKNOWN_OUTCOME, rerun.output
        assert "UNKNOWN     Green Leaf Dispensary (1)" in rerun.output and "--resend 1" in rerun.output
        again = send(pdfs, mapping, mail_env(port, db), "--apply")
        assert again.exit_code == ExitCode.UNKNOWN_OUTCOME, again.output
    finally:
        controller.stop()
    received = sorted(m["To"] for m in handler.messages)
    assert received in (
        ["ap@door.example", "ap@pine.example"],  # the server dropped the dead client's message
        ["ap@door.example", "ap@leaf.example", "ap@pine.example"],
    ), received


class _StallAtMail:
    """Stalls at MAIL FROM (before any data) until released; takes every message after."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.in_mail = threading.Event()
        self.release = threading.Event()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        import asyncio

        self.in_mail.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_before_the_message_was_handed_over_records_it_not_sent(
    pdfs: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    db = str(tmp_path / "state.sqlite3")
    handler, port = _StallAtMail(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mapping = recipients(tmp_path, ADDRESSES)
        env = {**os.environ, **mail_env(port, db)}
        command = [sys.executable, "-c", "from sheetsync.cli import main; main()", "statements", "send"]
        command += ["--pdf", str(pdfs), "--recipients", str(mapping), "--apply"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=default_sigint
        )
        try:
            assert handler.in_mail.wait(60), "the send never reached MAIL FROM"
        finally:
            process.send_signal(stop)
            output = process.communicate(timeout=30)[0].decode()
        assert process.returncode == ExitCode.INTERRUPTED, output
        assert record(db, 1).state == "failed" and record(db, 2) is None
        handler.release.set()
        rerun = send(pdfs, mapping, mail_env(port, db), "--apply")
    finally:
        controller.stop()
    assert rerun.exit_code == 0, rerun.output
    assert sorted(m["To"] for m in handler.messages) == ["ap@door.example", "ap@leaf.example", "ap@pine.example"]


def test_the_send_log_in_postgresql(pdfs: Path, smtp: SmtpServer, tmp_path: Path, store_location: str) -> None:
    env = mail_env(smtp.port, store_location)
    mapping = recipients(tmp_path, [ADDRESSES[0], (2, "ap@pine.example", REFUSED), ADDRESSES[2]])
    first = send(pdfs, mapping, env, "--apply")
    assert first.exit_code == ExitCode.PARTIAL and len(smtp.messages) == 3, first.output
    refused_again = send(pdfs, mapping, env, "--apply")  # still refused: those who have it keep it
    assert refused_again.exit_code == ExitCode.PARTIAL and len(smtp.messages) == 3, refused_again.output
    assert f"Pine Cannabis (2): partly sent: still NOT to {REFUSED} (" in refused_again.output
    assert "; delivered to ap@pine.example" in refused_again.output
    assert record(store_location, 2).state == "partial"
    smtp.handler.refuse = frozenset()
    again = send(pdfs, mapping, env, "--apply")
    assert len(smtp.messages) == 4 and smtp.handler.recipients[3] == [REFUSED], again.output
    assert record(store_location, 1).state == "sent" and record(store_location, 2).state == "sent"
    secret = urlsplit(store_location).password
    assert not secret or secret not in first.output + refused_again.output + again.output


# ---- the recipients file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, "ap@leaf.example", ""), (1, "other@x.example", "")], "map.csv rows 2 and 3 both name customer 1"),
        ([(2, "Pine AP pine.example", "")], "map.csv row 2 To: 'Pine' is not an e-mail address"),
        ([(2, "Pine AP <ap@pine>", "")], "map.csv row 2 To: 'ap@pine' is not an e-mail address"),
    ],
)
def test_recipients_faults_are_one_line_naming_the_rows(
    pdfs: Path, tmp_path: Path, rows: list[tuple[Any, ...]], message: str
) -> None:
    result = send(pdfs, recipients(tmp_path, rows), {})
    assert result.exit_code == ExitCode.USAGE
    assert message in result.output


def test_a_column_given_twice_is_refused(pdfs: Path, tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("CustomerID,To,Cc,to\n1,ap@leaf.example,,other@leaf.example\n")
    result = send(pdfs, path, {})
    assert result.exit_code == ExitCode.USAGE
    assert "map.csv: the column to appears twice (columns 2 and 4)" in result.output


def test_the_plan_names_who_has_no_address_and_why_and_recipients_without_a_statement(
    pdfs: Path, tmp_path: Path
) -> None:
    mapping = recipients(
        tmp_path, [(1, "", "cc@leaf.example"), (2, '"Pine, AP" <ap@pine.example>', ""), (99, "x@y.example", "")]
    )
    result = send(pdfs, mapping, {"SHEETSYNC_DB": str(tmp_path / "s.sqlite3")})
    assert result.exit_code == 0, result.output
    assert (
        "no address  Green Leaf Dispensary (1)" in result.output and "(map.csv row 2: no To address)" in result.output
    )
    assert "no address  Green Door Dispensary (3)" in result.output and "(not in the recipients)" in result.output
    assert "send        Pine Cannabis (2)" in result.output and "-> ap@pine.example" in result.output
    assert "note: 1 recipients without a statement in" in result.output and "99 (map.csv row 4)" in result.output


def test_a_semicolon_separated_csv_as_some_locales_save_it(tmp_path: Path) -> None:
    from sheetsync.statements.recipients import read_recipients

    path = tmp_path / "map.csv"
    path.write_text("CustomerID;To;Cc\n1;ap@leaf.example;boss@leaf.example, AP@leaf.example\n")
    found = read_recipients(path)
    assert (found[1].to, found[1].cc) == (["ap@leaf.example"], ["boss@leaf.example"])


def test_hidden_rows_and_sheets_of_an_xlsx_recipients_file_are_skipped_and_shown(pdfs: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    old = book.active
    old.title = "Old list"
    old.append(["CustomerID", "To", "Cc"])
    old.append([3, "stale@door.example", None])
    old.sheet_state = "hidden"
    sheet = book.create_sheet("Billing contacts")
    for row in [["CustomerID", "To", "Cc"], [1, "ap@leaf.example", None], [2, "ap@pine.example", None]]:
        sheet.append(row)
    sheet.append([3, "ap@door.example", None])
    sheet.row_dimensions[4].hidden = True
    book.save(tmp_path / "map.xlsx")
    result = send(pdfs, tmp_path / "map.xlsx", {"SHEETSYNC_DB": str(tmp_path / "s.sqlite3")})
    assert result.exit_code == 0, result.output
    assert "note: rows hidden in the recipients sheet are skipped: map.xlsx row 4 (hidden)" in result.output
    assert (
        "no address  Green Door Dispensary (3)" in result.output and "map.xlsx row 4 (hidden): skipped" in result.output
    )
    assert "stale@door.example" not in result.output


# ---- what a statement needs before it is built ---------------------------------------------------------


def test_statements_are_not_built_without_a_sender_and_remit_to(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from sheetsync.config import load_settings
    from sheetsync.statements.build import build_statements

    env = {"SHEETSYNC_COMPANY_NAME": "", "SHEETSYNC_COMPANY_ADDRESS": "", "SHEETSYNC_COMPANY_REMIT_TO": ""}
    with mock.patch.dict(os.environ, env), pytest.raises(ConfigError, match=r"\[company\] has no name"):
        settings = load_settings(cwd=tmp_path)
        connections = SimpleNamespace(settings=settings, environment="production")
        build_statements(connections, tmp_path / "out", params={}, settings=settings)
    with mock.patch.dict(os.environ, {**env, "SHEETSYNC_COMPANY_NAME": "Acme"}):
        settings = load_settings(cwd=tmp_path)
        connections = SimpleNamespace(settings=settings, environment="production")
        with pytest.raises(ConfigError, match="has no remit-to address"):
            build_statements(connections, tmp_path / "out", params={}, settings=settings)
    assert not (tmp_path / "out").exists()


def default_sigint() -> None:
    """In the child: Ctrl-C's default action, even when pytest runs as a background job (which starts
    with SIGINT ignored, and Python then never raises KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
