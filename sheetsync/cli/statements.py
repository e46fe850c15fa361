"""`sheetsync statements build|send`: customer statements as PDFs, e-mailed once."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from sheetsync.cli.common import api_options, params_option, settings_from_context
from sheetsync.errors import ConfigError, ExitCode


@click.group("statements")
def statements_group() -> None:
    """Customer statements: build one PDF per customer, e-mail each one once.

    \b
    Example:
      sheetsync statements build --sandbox --pdf out/
      sheetsync statements send --pdf out/ --recipients map.csv --apply
      sheetsync statements resolve --pdf out/ 5 --arrived
    """


@statements_group.command("build")
@params_option("-p", "--param", "params", help="An ar-aging parameter, e.g. -p states=CA,NY (repeatable).")
@click.option("--pdf", "pdf_dir", required=True, type=click.Path(file_okay=False), help="Directory for the PDFs.")
@click.option("--combined", is_flag=True, help="Also print every statement into statements-combined.pdf.")
@api_options
def build(params: dict[str, str], pdf_dir: str, combined: bool, sandbox: bool, sandbox_key: str, seed: int) -> None:
    """Print each customer's ar-aging statement to its own PDF (LibreOffice headless).

    Paper size is `[statements] paper` (a4 or letter) of sheetsync.toml. The directory also gets
    statements.json, which `statements send` reads.

    \b
    Example:
      sheetsync statements build --sandbox --pdf out/ -p states=CA --combined
    """
    from sheetsync.connect import open_connections
    from sheetsync.statements.build import build_statements

    settings = settings_from_context()
    with open_connections(settings, sandbox=sandbox, sandbox_key=sandbox_key, seed=seed) as connections:
        built = build_statements(connections, Path(pdf_dir), params=params, settings=settings, combined=combined)
    for statement in built:
        click.echo(f"{Path(pdf_dir) / statement.file}  {statement.customer} ({statement.customer_id})")
    click.echo(
        f"{len(built)} statements printed to {pdf_dir}" if built else "no customer owes a balance: no statements"
    )


@statements_group.command("send")
@click.option(
    "--pdf", "pdf_dir", required=True, type=click.Path(file_okay=False, exists=True), help="What build wrote."
)
@click.option("--recipients", type=click.Path(dir_okay=False, exists=True), help="CSV or xlsx: CustomerID, To, Cc.")
@click.option("--recipients-from-api", is_flag=True, help="Mail the customer's KSS users (buyers) instead.")
@click.option("--bcc", multiple=True, metavar="ADDRESS", help="Blind copy of every message (repeatable).")
@click.option("--test-to", metavar="ADDRESS", help="Send every message to this address only; record nothing.")
@click.option("--resend", multiple=True, type=int, metavar="CUSTOMER_ID", help="Send this customer's again.")
@click.option("--apply", is_flag=True, help="Send (without it: show the plan only).")
@api_options
def send(
    pdf_dir: str,
    recipients: str | None,
    recipients_from_api: bool,
    bcc: tuple[str, ...],
    test_to: str | None,
    resend: tuple[int, ...],
    apply: bool,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> None:
    """E-mail each customer its statement PDF, never twice: a plan first, then --apply sends.

    Each send is recorded in the state store under customer and statement date; a re-run sends only
    what was not sent. Subject and body come from `[statements] subject/body` of sheetsync.toml
    ({customer} {customer_id} {amount_due} {statement_date} {company}). Bounces are not tracked.

    \b
    Example:
      sheetsync statements send --pdf out/ --recipients map.csv --bcc ar@example.com
      sheetsync statements send --pdf out/ --recipients map.csv --test-to me@example.com --apply
      sheetsync statements send --pdf out/ --recipients map.csv --apply
    """
    from sheetsync.mailer import SmtpSettings
    from sheetsync.statements.build import load_manifest
    from sheetsync.statements.send import plan_lines, plan_sends, result_line, send_planned

    settings = settings_from_context()
    folder = Path(pdf_dir)
    statements = load_manifest(folder)
    who, note = _recipients(recipients, recipients_from_api, statements, settings, sandbox, sandbox_key, seed)
    options = _options(settings, bcc, resend, test_to, note)
    smtp = SmtpSettings.from_settings(settings) if apply else None
    store = None if test_to else _store(settings)
    with _send_lock(store if apply else None):  # a scheduled statements job never plans the same at once
        plan = plan_sends(statements, who, store, options, folder)
        for line in plan_lines(plan):
            click.echo(line)
        if smtp is not None:
            click.echo(f"mail from {smtp.sender} via {smtp.host}:{smtp.port} ({smtp.security})")
        if not apply:
            click.echo("Nothing was sent (plan only); run again with --apply to send.")
            return
        assert smtp is not None
        with _terminate_as_interrupt():
            send_planned(plan, smtp, store, on_item=lambda item: click.echo(result_line(item)))
    code = _exit_code(plan)
    if code:
        click.get_current_context().exit(code)


@statements_group.command("resolve")
@click.option(
    "--pdf", "pdf_dir", required=True, type=click.Path(file_okay=False, exists=True), help="What build wrote."
)
@click.argument("customer_id", type=int)
@click.option("--arrived/--not-arrived", default=None, help="What you found: it arrived, or it did not.")
def resolve(pdf_dir: str, customer_id: int, arrived: bool | None) -> None:
    """Settle a statement whose send is UNKNOWN (the process died or the connection broke mid-send).

    Check first (the Bcc mailbox, the mail server's log, the customer): --arrived records it sent;
    --not-arrived records it failed, so the next `statements send --apply` sends it.

    \b
    Example:
      sheetsync statements resolve --pdf out/ 5 --arrived
    """
    from sheetsync.statements.build import load_manifest
    from sheetsync.statements.send import resolve_unknown

    if arrived is None:
        raise ConfigError("say what you found: --arrived or --not-arrived")
    statement = next((s for s in load_manifest(Path(pdf_dir)) if s.customer_id == customer_id), None)
    if statement is None:
        raise ConfigError(f"customer {customer_id}: no statement in {pdf_dir}")
    record = resolve_unknown(_store(settings_from_context()), statement, arrived=arrived)
    click.echo(f"{statement.customer} ({customer_id}) {statement.statement_date}: recorded {record.state}")


def _recipients(
    path: str | None, from_api: bool, statements: list[Any], settings: Any, sandbox: bool, key: str, seed: int
) -> tuple[dict[int, Any], str]:
    from sheetsync.statements.recipients import read_recipients, recipients_from_users

    if bool(path) == from_api:
        raise ConfigError("give either --recipients FILE or --recipients-from-api")
    if path:
        return read_recipients(Path(path)), ""
    from sheetsync.connect import open_connections

    ids = sorted({s.customer_id for s in statements})
    with open_connections(settings, sandbox=sandbox, sandbox_key=key, seed=seed) as connections:
        users = connections.kss.get_all("users", {"CustomerIDs": ids, "Roles": ["Customer"]}) if ids else []
    note = "recipients are the customers' KSS users with an e-mail: buyers, not necessarily billing contacts"
    return recipients_from_users(users, ids), note


def _options(settings: Any, bcc: tuple[str, ...], resend: tuple[int, ...], test_to: str | None, note: str) -> Any:
    from sheetsync.statements.recipients import addresses
    from sheetsync.statements.send import SendOptions

    checked_bcc = tuple(a for text in bcc for a in addresses(text, "--bcc"))
    if test_to is not None and addresses(test_to, "--test-to") != [test_to.strip()]:
        raise ConfigError(f"--test-to {test_to!r}: give one e-mail address")
    return SendOptions(
        bcc=checked_bcc,
        resend=frozenset(resend),
        test_to=test_to.strip() if test_to else None,
        subject=settings.statements_subject,
        body=settings.statements_body,
        recipients_note=note,
    )


def _send_lock(store: Any) -> Any:
    """The store's `statements:send` lock (LockHeldError naming its holder), or nothing without a store."""
    from sheetsync.statements.send import SEND_LOCK

    return store.lock(SEND_LOCK, ttl=timedelta(hours=2)) if store is not None else nullcontext()


def _store(settings: Any) -> Any:
    from sheetsync.store import Actor, open_store

    return open_store(settings.store_location, actor=Actor.current(api_key=settings.kss_api_key))


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a timeout, systemd stop) ends the sends as Ctrl-C does: the message in flight is recorded
    exactly (failed or unknown) instead of the process dying with it "sending"."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_code(plan: Any) -> int:
    """UNKNOWN_OUTCOME when a message may or may not have gone (now or in an earlier run, not resolved);
    PARTIAL when one failed or was refused for some recipients, or a customer has no address; else OK."""
    from sheetsync.statements.send import NO_ADDRESS, UNKNOWN

    outcomes = [item.outcome for item in plan.items if item.will_send]
    counts = plan.counts()
    if any(o.startswith("unknown") for o in outcomes) or counts.get(UNKNOWN):
        return int(ExitCode.UNKNOWN_OUTCOME)
    if any(o != "sent" for o in outcomes) or counts.get(NO_ADDRESS):
        return int(ExitCode.PARTIAL)
    return 0


COMMANDS = [statements_group]
